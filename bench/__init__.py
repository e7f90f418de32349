"""Benchmarks: scripts that print their figures."""
