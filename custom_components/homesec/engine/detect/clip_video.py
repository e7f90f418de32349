"""The video detection reads: a clip's detection recording, else the clip.

An RTSP camera with a substream records it beside each clip (see
``Clip.detection_path``): scanning it costs the same whatever the main stream's
resolution. A recording that cannot be decoded is not the clip's fault: the
clip itself is scanned instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from concurrent.futures import Executor
from functools import partial
import logging
from pathlib import Path
import threading

from ..errors import VideoDecodeError
from ..models import Clip
from .frames import SampledFrame, sample_frames

_LOGGER = logging.getLogger(__name__)

type Sampler = Callable[[Path, float, int], Generator[SampledFrame]]


def scan_clip[T](clip: Clip, scan: Callable[[Path], T]) -> T:
    """``scan`` of the clip's detection recording, or of the clip (blocking)."""
    path = clip.scan_path
    if path == clip.local_path:
        return scan(path)
    try:
        return scan(path)
    except VideoDecodeError as err:
        _fell_back(clip, err)
        return scan(clip.local_path)


async def scan_clip_in[T](
    executor: Executor, clip: Clip, scan: Callable[[Path, Callable[[], bool]], T]
) -> T:
    """``scan_clip`` in ``executor``; ``scan`` gets the path and a stop flag.

    Cancelling the awaiting task raises the flag: the scan stops between frames.
    """
    cancelled = threading.Event()
    job = partial(scan_clip, clip, partial(_scan_until, scan, cancelled.is_set))
    try:
        return await asyncio.get_running_loop().run_in_executor(executor, job)
    except asyncio.CancelledError:
        cancelled.set()
        raise


def _scan_until[T](
    scan: Callable[[Path, Callable[[], bool]], T], stop: Callable[[], bool], path: Path
) -> T:
    return scan(path, stop)


def clip_frames(
    clip: Clip, sample_fps: float, side: int, sampler: Sampler = sample_frames
) -> Generator[SampledFrame]:
    """``sampler``'s frames of the video ``scan_clip`` would read (blocking)."""
    path = clip.scan_path
    frames = sampler(path, sample_fps, side)
    try:
        if path != clip.local_path:
            try:
                first = next(frames, None)
            except VideoDecodeError as err:
                _fell_back(clip, err)
                frames = sampler(clip.local_path, sample_fps, side)
            else:
                if first is None:
                    return
                yield first
        yield from frames
    finally:
        frames.close()


def _fell_back(clip: Clip, err: VideoDecodeError) -> None:
    _LOGGER.warning(
        "The substream recording of %s cannot be read (%s); detection reads the clip",
        clip.clip_id, err,
    )  # fmt: skip
