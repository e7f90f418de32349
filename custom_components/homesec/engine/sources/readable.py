"""Whether a file is a video or image HomeSec can use."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import av
import av.error


def readable_media(path: Path) -> bool:
    """Whether a file opens as a video or image with a frame in it (blocking)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return False
            for _ in container.decode(video=0):
                return True
    except av.error.FFmpegError, OSError, ValueError:
        return False
    return False


LONGEST_CLIP = timedelta(hours=1)
"""A longer duration in a file's header is not believed (a damaged header)."""


def media_duration(path: Path) -> timedelta | None:
    """How long a video lasts, from its header (blocking); None if unknown.

    A picture, an unreadable file or a duration over ``LONGEST_CLIP`` gives
    None.
    """
    try:
        with av.open(str(path)) as container:
            micros = container.duration
    except av.error.FFmpegError, OSError, ValueError:
        return None
    if micros is None or micros <= 0:
        return None
    duration = timedelta(microseconds=micros)
    return duration if duration <= LONGEST_CLIP else None
