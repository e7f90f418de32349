"""Oversize answers, as a misbehaving server sends them."""

from __future__ import annotations

from aiohttp import web

CHUNK = 64 * 1024


async def oversize_answer(
    request: web.Request, body: bytes, *, chunked: bool
) -> web.StreamResponse:
    """``body`` as JSON: with its length announced, or chunked without one."""
    if not chunked:
        return web.Response(body=body, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(body), CHUNK):
        await response.write(body[start : start + CHUNK])
    await response.write_eof()
    return response
