"""Doubles of paid cloud APIs, served over real HTTP(S) on 127.0.0.1."""
