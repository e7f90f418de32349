"""Clip sources."""
