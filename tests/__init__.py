"""Tests of the HomeSec integration."""
