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
