"""Sampled frame decoding with PyAV (no per-frame seeking).

The stream is decoded straight through (seeking per sample is slower than
decoding a short GOP), with frame threading, and only the frames on the sampling
grid are converted, scaled by swscale straight to the size the consumer wants.

A keyframe pass (``sample_keyframes``) decodes only the keyframes that are on
the sampling grid, which costs a small fraction of decoding every frame; the
in-between pass (``sample_between``) then yields the rest of the grid. A frame
is identified by its presentation timestamp (``pts``, in the stream's time
base): both passes open the same file, so the same frame has the same pts, and
no frame is yielded by both.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Generator, Iterator
from dataclasses import dataclass, field
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


@dataclass(slots=True)
class KeyframePass:
    """What a keyframe pass yielded, and whether the rest of the grid is needed."""

    taken: set[int] = field(default_factory=set)
    """The pts of the keyframes yielded."""
    grid_frames: int = 0
    """The frames on the sampling grid, counted from the packets' times."""
    in_order: bool = True
    """Packets came in presentation order (no B-frames): the count is exact."""
    finished: bool = False
    """The stream was read to its end without a decoding error."""
    keyframes: list[tuple[float, bool]] = field(default_factory=list)
    """Every keyframe packet's time, and whether the grid takes it."""
    end: float = -math.inf
    """The time of the stream's last frame."""

    @property
    def covers_grid(self) -> bool:
        """Every frame on the grid was a keyframe yielded (nothing in between)."""
        return (
            self.finished and self.in_order and 0 < len(self.taken) == self.grid_frames
        )


def sample_keyframes(
    path: Path,
    sample_fps: float,
    side: int,
    found: KeyframePass,
    *,
    threads: int = DECODE_THREADS,
) -> Generator[SampledFrame]:
    """Yield the keyframes on the sampling grid, RGB, recording them in ``found``.

    Only keyframes are decoded (``skip_frame = "NONKEY"``), and of those only
    the ones the grid takes: a packet goes to the decoder when it is the first
    of its grid cell, judged from the times of the packets before it, so an
    all-intra clip costs no more inferences than its sampled frames. Decoding
    errors end the pass quietly (``found.finished`` stays false): the
    in-between pass then decodes the clip and reports what it cannot decode.
    """
    container = _open(path)
    try:
        yield from _decode_keyframes(
            container,
            path=path,
            sample_fps=sample_fps,
            side=side,
            found=found,
            threads=threads,
        )
    finally:
        container.close()
        del container
        _free_decoder()


def _decode_keyframes(
    container: av.container.InputContainer,
    *,
    path: Path,
    sample_fps: float,
    side: int,
    found: KeyframePass,
    threads: int,
) -> Generator[SampledFrame]:
    """``sample_keyframes`` on an open container."""
    if not container.streams.video:
        raise VideoDecodeError(f"{path.name} has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "FRAME"
    stream.codec_context.thread_count = threads
    stream.codec_context.skip_frame = "NONKEY"
    time_base = stream.time_base
    grid = _Grid(sample_fps)
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and time_base is not None:
                ts = float(packet.pts * time_base)
                # With B-frames a packet's predecessor in presentation order
                # may come later: then a keyframe may be taken that the grid
                # would not (the in-between pass still never repeats it).
                found.in_order = found.in_order and ts > found.end
                found.end = max(found.end, ts)
                on_grid = grid.takes(ts)
                if packet.is_keyframe:
                    found.keyframes.append((ts, on_grid))
                if not on_grid:
                    continue  # not on the grid: not even decoded
                found.grid_frames += 1
            for frame in packet.decode():
                if frame.pts is None or frame.time is None or frame.pts in found.taken:
                    continue
                found.taken.add(frame.pts)
                yield SampledFrame(frame.time, _convert(frame, side, "rgb24"), frame)
    except av.error.FFmpegError:
        return  # the in-between pass decodes what it can
    found.finished = True


def sample_between(
    path: Path,
    sample_fps: float,
    side: int,
    found: KeyframePass,
    *,
    threads: int = DECODE_THREADS,
) -> Generator[SampledFrame]:
    """Yield the sampled frames the keyframe pass ``found`` did not, RGB.

    When the keyframe pass read the whole stream in presentation order, a
    group of pictures is decoded only as far as its last sampled frame (the
    packets after it, up to the next keyframe or the end, are not), and a group
    without one (keyframes denser than the grid) not at all; this trusts the
    container's keyframe flags. Otherwise the stream is decoded through
    (``sample_frames`` skipping the keyframes taken).
    """
    if not (found.finished and found.in_order and found.taken):
        yield from sample_frames(
            path, sample_fps, side, threads=threads, skip=found.taken
        )
        return
    container = _open(path)
    try:
        yield from _decode_between(
            container, sample_fps=sample_fps, side=side, found=found, threads=threads
        )
    finally:
        container.close()
        del container
        _free_decoder()


def _decode_between(
    container: av.container.InputContainer,
    *,
    sample_fps: float,
    side: int,
    found: KeyframePass,
    threads: int,
) -> Generator[SampledFrame]:
    """``sample_between`` on an open container of an in-order stream."""
    stream = container.streams.video[0]
    stream.thread_type = "FRAME"
    stream.codec_context.thread_count = threads
    time_base = stream.time_base
    grid = _Grid(sample_fps)
    # The end counts as a keyframe the grid does not take: frames up to it
    # may be sampled.
    keyframes = [*found.keyframes, (found.end, False)]
    following = 0  # index of the first keyframe after the current packet
    wanted: set[int] = set()
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and time_base is not None:
                ts = float(packet.pts * time_base)
                if grid.takes(ts) and packet.pts not in found.taken:
                    wanted.add(packet.pts)
                while following < len(keyframes) and keyframes[following][0] <= ts:
                    following += 1
                if packet.pts not in wanted and (
                    following == len(keyframes)  # the last frame
                    or not grid.may_take_before(ts, *keyframes[following])
                ):
                    continue  # nothing sampled until the next keyframe
            for frame in packet.decode():
                if frame.pts in wanted:
                    wanted.discard(frame.pts)
                    image = _convert(frame, side, "rgb24")
                    yield SampledFrame(frame.time, image, frame)
    except av.error.FFmpegError:
        return  # a damaged tail: the frames read so far


def keyframes_then_sampled(
    path: Path, sample_fps: float, side: int, *, threads: int = DECODE_THREADS
) -> Generator[SampledFrame]:
    """The keyframes on the grid, then the other sampled frames (each once)."""
    found = KeyframePass()
    yield from sample_keyframes(path, sample_fps, side, found, threads=threads)
    if not found.covers_grid:
        yield from sample_between(path, sample_fps, side, found, threads=threads)


def _convert(frame: av.VideoFrame, side: int, pixel_format: str) -> NDArray[np.uint8]:
    """Scale so the longer side is ``side`` (even sizes), convert, turn upright."""
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
    scale = side / max(frame.width, frame.height)
    scaled_w = max(2, round(frame.width * scale / 2) * 2)
    scaled_h = max(2, round(frame.height * scale / 2) * 2)
    image = frame.reformat(width=scaled_w, height=scaled_h, format=pixel_format)
    array = np.asarray(image.to_ndarray(), dtype=np.uint8)
    if rotation:
        # PyAV reports the display rotation counter-clockwise.
        array = np.ascontiguousarray(np.rot90(array, k=rotation // 90))
    return array


def snapshot_rgb(frame: av.VideoFrame, side: int = 1280) -> RgbFrame:
    """A frame as upright RGB, the longer side at most ``side``, for snapshots."""
    return _convert(frame, min(side, max(frame.width, frame.height)), "rgb24")


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
