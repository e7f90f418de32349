"""Clip analysis with vision-language models."""
