"""Clip storage backends."""
