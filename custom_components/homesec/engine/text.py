"""Small text helpers for log lines and stored errors."""

from __future__ import annotations

from .redact import redact_text

MAX_ERROR_CHARS = 300


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, shortened, without secrets.

    Libraries put URLs and DSNs in their messages (aiohttp the request URL with
    its query, libpq the connection string): they are redacted here, where every
    stored error and most logged ones pass.
    """
    text = str(err).strip().splitlines()
    line = text[0] if text else type(err).__name__
    return redact_text(line)[:MAX_ERROR_CHARS]


def describe(err: BaseException) -> str:
    """``Type: first line`` of an exception, for stored error fields."""
    return f"{type(err).__name__}: {first_line(err)}"


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 clip``, ``3 clips``: a number with its noun in the right form."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


def size(number_of_bytes: int) -> str:
    """A byte count as people read it: ``512 bytes``, ``3.4 MB``, ``1.2 GB``."""
    if abs(number_of_bytes) < 1000:
        return count(number_of_bytes, "byte")
    value = float(number_of_bytes)
    for unit in ("kB", "MB"):
        value /= 1000
        if abs(value) < 1000:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} GB"
