"""Sampled frame decoding with PyAV (no per-frame seeking).

The stream is decoded straight through (seeking per sample is slower than
decoding a short GOP), with frame threading, and only the frames on the sampling
grid are converted, scaled by swscale straight to the size the consumer wants.

Keyframes first (a pass over keyframes, then the rest of the grid) is in
``keyframes.py``.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Generator, Iterator
from dataclasses import dataclass
import gc
import io
import math
from pathlib import Path

import av
import av.container
import av.error
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ..errors import VideoDecodeError

type GrayFrame = NDArray[np.uint8]
type RgbFrame = NDArray[np.uint8]

DECODE_THREADS = 2
SEEK_GAP = 4.0
"""Seconds between wanted frames beyond which seeking beats decoding through."""
FAST_DECODE = {"skip_loop_filter": "all"}
"""Decoder options of the keyframes-first in-between pass: without H.264's and
HEVC's deblocking filter a frame decodes in about 15% less CPU time, and at the
model's size its picture differs little (33-40 dB PSNR on noisy camera clips);
its snapshot is decoded again with the filter."""
SEEKABLE = frozenset({"mov", "matroska"})
"""Containers (MP4, MKV) whose index seeks to keyframes; others (MPEG-TS, AVI)
are decoded through."""


@dataclass(slots=True)
class SampledFrame:
    """One frame on the sampling grid."""

    ts: float
    image: NDArray[np.uint8]
    source: av.VideoFrame
    """The decoded frame at full size, to make a snapshot from."""
    exact: bool = True
    """False when decoded without the deblocking filter (``FAST_DECODE``): a
    snapshot decodes it again (``decoded_again``)."""


def sample_frames(
    path: Path,
    sample_fps: float,
    side: int,
    *,
    pixel_format: str = "rgb24",
    threads: int = DECODE_THREADS,
    skip: Container[int] = frozenset(),
) -> Generator[SampledFrame]:
    """Yield upright frames at about ``sample_fps``, the longer side ``side`` px.

    Frames on the grid whose pts is in ``skip`` (yielded by a keyframe pass)
    are passed over without being converted.
    Raises VideoDecodeError for missing, empty, truncated or non-video files;
    a clip whose tail is damaged yields what could be decoded.
    """
    container = _open(path)
    try:
        yield from _decode(
            container,
            path=path,
            sample_fps=sample_fps,
            side=side,
            pixel_format=pixel_format,
            threads=threads,
            skip=skip,
        )
    finally:
        container.close()
        del container
        _free_decoder()


def sample_times(path: Path, sample_fps: float) -> list[float]:
    """The times of the frames ``sample_frames`` yields, read without decoding.

    Only the packets' timestamps are read (a demux pass, no pictures).
    """
    container = _open(path)
    try:
        times = _packet_times(container, path)
    finally:
        container.close()
        del container
        _free_decoder()
    grid = _Grid(sample_fps)
    sampled = [ts for ts in sorted(times) if grid.takes(ts)]
    if not sampled:
        raise VideoDecodeError(f"{path.name} has no decodable frames")
    return sampled


def _packet_times(container: av.container.InputContainer, path: Path) -> list[float]:
    """Presentation times of the video packets (decode order)."""
    if not container.streams.video:
        raise VideoDecodeError(f"{path.name} has no video stream")
    times = []
    try:
        for packet in container.demux(container.streams.video[0]):
            if packet.pts is not None and packet.time_base is not None:
                times.append(float(packet.pts * packet.time_base))
    except av.error.FFmpegError:
        pass  # a damaged tail: the times read so far
    return times


def frames_at(
    path: Path, times: Collection[float], side: int, *, threads: int = DECODE_THREADS
) -> Generator[SampledFrame]:
    """Yield the frames at ``times`` (from ``sample_times``), in order, RGB.

    In MP4 and MKV, gaps longer than SEEK_GAP seconds are skipped by seeking to
    the keyframe before the next time, so a long clip costs a few GOPs, not all
    its frames. Should a seek land late, the first frame after the time is taken.
    """
    container = _open(path)
    try:
        yield from _seek_decode(container, path, sorted(times), side, threads)
    finally:
        container.close()
        del container
        _free_decoder()


def _seek_decode(
    container: av.container.InputContainer,
    path: Path,
    times: list[float],
    side: int,
    threads: int,
) -> Generator[SampledFrame]:
    """``frames_at`` on an open container."""
    try:
        if not container.streams.video:
            raise VideoDecodeError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "FRAME"
        stream.codec_context.thread_count = threads
        time_base = stream.time_base
        seekable = container.format.name.split(",")[0] in SEEKABLE
        decoded = container.decode(stream)
        position = -1.0
        for wanted in times:
            if wanted <= position:
                continue  # taken already (a seek landed past it)
            gap = wanted - max(position, 0.0)
            if seekable and time_base is not None and gap > SEEK_GAP:
                container.seek(int(wanted / time_base), stream=stream)
                decoded = container.decode(stream)
            frame = _first_from(decoded, wanted - 1e-4)
            if frame is None:
                return
            position = frame.time if frame.time is not None else wanted
            yield SampledFrame(position, _convert(frame, side, "rgb24"), frame)
    except av.error.FFmpegError:
        return  # a damaged tail: the frames read so far


def _first_from(decoded: Iterator[av.VideoFrame], ts: float) -> av.VideoFrame | None:
    """The first frame at or after ``ts`` seconds."""
    for frame in decoded:
        if frame.time is not None and frame.time >= ts:
            return frame
    return None


def decoded_again(path: Path, frame: av.VideoFrame) -> av.VideoFrame:
    """``frame`` of the clip at ``path`` decoded again with every filter.

    The decoder seeks to the keyframe before it (at most a group of pictures to
    decode); ``frame`` itself when that fails.
    """
    if frame.pts is None:
        return frame
    try:
        container = _open(path)
    except VideoDecodeError:
        return frame
    try:
        stream = container.streams.video[0]
        stream.thread_type = "FRAME"
        stream.codec_context.thread_count = DECODE_THREADS
        container.seek(frame.pts, stream=stream, backward=True)
        for again in container.decode(stream):
            if again.pts is not None and again.pts >= frame.pts:
                return again if again.pts == frame.pts else frame
    except av.error.FFmpegError:
        pass
    finally:
        container.close()
        del container
        _free_decoder()
    return frame


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file() or path.stat().st_size == 0:
        raise VideoDecodeError(f"{path.name} is empty or missing")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise VideoDecodeError(f"{path.name} is not a readable video: {err}") from err


def _free_decoder() -> None:
    """Collect a closed container once the caller dropped it.

    PyAV's container, stream and codec context reference each other; the cycle
    holds the decoder's frame buffers (about 30 MB at 1080p) until a collection.
    It is still young here, so a cheap gen-0 pass frees it now.
    """
    gc.collect(0)


class _Grid:
    """The sampling grid: the first frame in each ``1/sample_fps`` s cell."""

    def __init__(self, sample_fps: float) -> None:
        self._step = 1.0 / sample_fps
        self._next = 0

    def _cell(self, ts: float) -> int:
        return math.floor(ts / self._step + 1e-6)

    def takes(self, ts: float) -> bool:
        """Whether the frame at ``ts`` (in presentation order) is sampled."""
        cell = self._cell(ts)
        if cell < self._next:
            return False
        self._next = cell + 1
        return True

    def may_take_before(self, ts: float, keyframe: float, keyframe_taken: bool) -> bool:
        """Whether a frame after ``ts`` and before the keyframe may be sampled.

        There is none when the keyframe is in the cell of ``ts``, or in the next
        cell as its first frame (the grid took it).
        """
        cell, key_cell = self._cell(ts), self._cell(keyframe)
        return key_cell > cell + 1 or (key_cell == cell + 1 and not keyframe_taken)


def _decode(
    container: av.container.InputContainer,
    *,
    path: Path,
    sample_fps: float,
    side: int,
    pixel_format: str,
    threads: int,
    skip: Container[int],
) -> Generator[SampledFrame]:
    """Decode ``container``'s video and yield the frames on the sampling grid."""
    if not container.streams.video:
        raise VideoDecodeError(f"{path.name} has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "FRAME"
    stream.codec_context.thread_count = threads
    grid = _Grid(sample_fps)
    decoded = 0
    try:
        for frame in container.decode(stream):
            ts = frame.time
            if ts is None or not grid.takes(ts):
                continue
            decoded += 1
            if frame.pts in skip:
                continue
            yield SampledFrame(ts, _convert(frame, side, pixel_format), frame)
    except av.error.FFmpegError as err:
        if decoded == 0:
            raise VideoDecodeError(f"{path.name} could not be decoded: {err}") from err
    if decoded == 0:
        raise VideoDecodeError(f"{path.name} has no decodable frames")


def _convert(
    frame: av.VideoFrame,
    side: int,
    pixel_format: str,
    interpolation: str | None = None,
) -> NDArray[np.uint8]:
    """Scale so the longer side is ``side`` (even sizes), convert, turn upright.

    ``interpolation`` is swscale's (PyAV's default, bilinear, when None).
    """
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    scale = side / max(frame.width, frame.height)
    scaled_w = max(2, round(frame.width * scale / 2) * 2)
    scaled_h = max(2, round(frame.height * scale / 2) * 2)
    image = frame.reformat(
        width=scaled_w,
        height=scaled_h,
        format=pixel_format,
        interpolation=interpolation,
    )
    array = np.asarray(image.to_ndarray(), dtype=np.uint8)
    if rotation:
        # PyAV reports the display rotation counter-clockwise.
        array = np.ascontiguousarray(np.rot90(array, k=rotation // 90))
    return array


def snapshot_rgb(frame: av.VideoFrame, side: int = 1280) -> RgbFrame:
    """A frame as upright RGB, the longer side at most ``side``, for snapshots.

    Area averaging: a sharp downscale for half the cost of bilinear at 1080p.
    """
    return _convert(frame, min(side, max(frame.width, frame.height)), "rgb24", "AREA")


def still_jpeg(path: Path, side: int = 1280, quality: int = 80) -> bytes:
    """The first decodable frame of a clip or image as JPEG (blocking)."""
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0), None)
            if frame is None:
                raise VideoDecodeError(f"{path.name} has no decodable frames")
            rgb = snapshot_rgb(frame, side)
    except av.error.FFmpegError as err:
        raise VideoDecodeError(f"{path.name} could not be decoded: {err}") from err
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def sample_gray_frames(
    path: Path, sample_fps: float, side: int
) -> Iterator[tuple[float, GrayFrame]]:
    """Yield ``(seconds, gray frame)`` at about ``sample_fps``, longer side ``side``."""
    for sampled in sample_frames(path, sample_fps, side, pixel_format="gray"):
        yield sampled.ts, sampled.image
