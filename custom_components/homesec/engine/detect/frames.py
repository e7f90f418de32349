"""Sampled frame decoding with PyAV (no per-frame seeking)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from ..errors import VideoDecodeError

type GrayFrame = NDArray[np.uint8]


def sample_gray_frames(
    path: Path, sample_fps: float, width: int
) -> Iterator[tuple[float, GrayFrame]]:
    """Yield ``(seconds, gray frame)`` at about ``sample_fps``, ``width`` wide.

    Decodes straight through the stream (a seek per sample is slower than
    decoding a short GOP) and converts only the sampled frames. Raises
    VideoDecodeError for empty, truncated or non-video files.
    """
    if not path.is_file() or path.stat().st_size == 0:
        raise VideoDecodeError(f"{path.name} is empty or missing")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise VideoDecodeError(f"{path.name} is not a readable video: {err}") from err
    with container:
        if not container.streams.video:
            raise VideoDecodeError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        step = 1.0 / sample_fps
        next_ts = 0.0
        yielded = 0
        try:
            for frame in container.decode(stream):
                ts = frame.time
                if ts is None or ts + 1e-6 < next_ts:
                    continue
                next_ts = ts + step
                height = max(2, round(frame.height * width / frame.width / 2) * 2)
                gray = frame.reformat(width=width, height=height, format="gray")
                yield ts, np.asarray(gray.to_ndarray(), dtype=np.uint8)
                yielded += 1
        except av.error.FFmpegError as err:
            if yielded == 0:
                raise VideoDecodeError(
                    f"{path.name} could not be decoded: {err}"
                ) from err
            # A truncated tail: keep what was decoded.
        if yielded == 0:
            raise VideoDecodeError(f"{path.name} has no decodable frames")
