"""Secrets out of URLs, database DSNs and error texts, before they are shown.

One place decides what a secret looks like, for logs, stored errors, entity
attributes and diagnostics: the user information of a URL
(``rtsp://user:pass@host``), query parameters named like credentials
(``?token=``, ``api_key=``, ``password=``) and libpq ``key=value`` passwords
(``host=db password=secret``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import re
from typing import Any
from urllib.parse import quote

REDACTED = "**REDACTED**"

SECRET_NAMES = (
    "access_token",
    "api_key",
    "apikey",
    "auth",
    "client_secret",
    "key",
    "pass",
    "passwd",
    "password",
    "pwd",
    "refresh_token",
    "secret",
    "sig",
    "signature",
    "token",
)
"""Parameter names whose values are credentials (in queries and DSNs)."""

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>`]+")
_SECRET_VALUE = re.compile(
    r"(?P<name>\b(?:" + "|".join(SECRET_NAMES) + r"))"
    r"(?P<eq>\s*=\s*)"
    r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;,'\"]+)",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """``url`` without user information and without credential parameters.

    The user information is everything between ``://`` and the last ``@``
    before the path's query, so a password with an unencoded ``/`` or ``@`` in
    it is still hidden.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return redact_text(url)
    head = re.split(r"[?#\s]", rest, maxsplit=1)[0]
    if "@" in head:
        rest = REDACTED + rest[head.rindex("@") :]
    return scheme + sep + _redact_values(rest)


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` (an error message, a log line) with URLs, DSNs and ``secrets`` hidden.

    ``secrets`` are known credentials: they are replaced wherever they appear,
    as typed and URL-encoded (libraries quote URLs back in their messages).
    """
    for secret in secrets:
        if secret and len(secret) >= 3:
            for form in {secret, quote(secret, safe="")}:
                text = text.replace(form, REDACTED)
    text = _URL.sub(lambda match: redact_url(match.group(0)), text)
    return _redact_values(text)


def redact_data(data: Any) -> Any:
    """``data`` (mappings, lists, strings) with every string redacted."""
    if isinstance(data, str):
        return redact_text(data)
    if isinstance(data, Mapping):
        return {key: redact_data(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(value) for value in data]
    return data


def _redact_values(text: str) -> str:
    return _SECRET_VALUE.sub(
        lambda match: f"{match['name']}{match['eq']}{REDACTED}", text
    )
