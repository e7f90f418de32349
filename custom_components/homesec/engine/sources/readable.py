"""Whether a file is a video or image HomeSec can use."""

from __future__ import annotations

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
