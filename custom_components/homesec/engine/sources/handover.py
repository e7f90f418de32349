"""Handing a clip from a source thread to the pipeline on the event loop."""

from __future__ import annotations

import asyncio
import logging

from ..interfaces import ClipSink
from ..models import Clip

_LOGGER = logging.getLogger(__name__)


def hand_over(
    loop: asyncio.AbstractEventLoop | None, sink: ClipSink | None, clip: Clip
) -> None:
    """Submit ``clip`` on ``loop`` from any thread (it stays spooled if it cannot)."""
    if loop is None or sink is None or loop.is_closed():
        return

    async def deliver() -> None:
        await sink(clip)

    try:
        asyncio.run_coroutine_threadsafe(deliver(), loop)
    except RuntimeError:  # the loop closed meanwhile: recovery takes the clip
        _LOGGER.debug("%s stays in the spool until the next start", clip.clip_id)
