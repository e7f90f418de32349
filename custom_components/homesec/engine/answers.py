"""Servers' JSON answers, read with a size limit."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from .errors import HomeSecError

MAX_ANSWER_BYTES = 4 * 1024 * 1024
"""Far above any real answer (a detection list, a model's summary)."""


class UnusableAnswer(HomeSecError):  # noqa: N818 - names what happened
    """A server's answer is too large or not JSON."""


async def read_json(
    response: aiohttp.ClientResponse, limit: int = MAX_ANSWER_BYTES
) -> Any:
    """The JSON of ``response``'s body; UnusableAnswer past ``limit`` bytes."""
    too_large = UnusableAnswer(f"the answer is larger than {limit / 2**20:g} MB")
    if response.content_length is not None and response.content_length > limit:
        raise too_large
    body = bytearray()
    while chunk := await response.content.read(limit + 1 - len(body)):
        body += chunk
        if len(body) > limit:
            raise too_large
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise UnusableAnswer("the answer is not JSON") from err
