"""Keyframes first: a pass over the keyframes on the sampling grid, then the rest.

A keyframe pass (``sample_keyframes``) decodes only the keyframes that are on
the sampling grid, which costs a small fraction of decoding every frame; the
in-between pass (``sample_between``) then yields the rest of the grid. A frame
is identified by its presentation timestamp (``pts``, in the stream's time
base): both passes open the same file, so the same frame has the same pts, and
no frame is yielded by both.

What a scan that a keyframe decides costs is mostly that keyframe's decoding:
opening reads the headers only (the probe decodes no picture,
``PROBE_OPTIONS``), and the keyframe pass decodes on one thread, so each
keyframe is yielded as soon as it is decoded (frame threads decode the next one
first, and closing waits for it). The in-between pass decodes many frames. Each
group of pictures starts at a keyframe, so in a seekable file (MP4, MKV) it
gives the groups to ``DECODE_THREADS`` decoders of one thread each, which seek
to their groups and decode them at the same time: frame threads of one decoder
wait on each other's reference pictures and cost more CPU. Frames larger than
1080p are decoded by one decoder on one thread (each holds its own pictures,
12 MB each at 4K).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
import math
from pathlib import Path

import av
import av.container
import av.error

from ..errors import VideoDecodeError
from .frames import (
    DECODE_THREADS,
    SampledFrame,
    _convert,
    _decode,
    _free_decoder,
    _Grid,
)
from .group_decoders import Group, decode_groups, seekable

PROBE_OPTIONS = {"skip_frame": "all"}
"""Decoder options for the probe while opening: read the headers and decode no
picture (decoding there cost as much as a 1080p keyframe, and the decoder finds
the picture format in the stream anyway)."""
KEYFRAME_THREADS = 1
"""Decoding threads of the keyframe pass."""
THREADED_PIXELS = 1920 * 1088
"""The largest frame the in-between pass decodes on ``DECODE_THREADS`` threads."""


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
    grid: list[int] = field(default_factory=list)
    """The pts of every frame on the grid, in presentation order."""
    keyframe_pts: list[int] = field(default_factory=list)
    """Every keyframe packet's pts."""

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
    threads: int = KEYFRAME_THREADS,
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
                    found.keyframe_pts.append(packet.pts)
                if not on_grid:
                    continue  # not on the grid: not even decoded
                found.grid_frames += 1
                found.grid.append(packet.pts)
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
    threads: int | None = None,
) -> Generator[SampledFrame]:
    """Yield the sampled frames the keyframe pass ``found`` did not, RGB.

    When the keyframe pass read the whole stream in presentation order, a
    group of pictures is decoded only as far as its last sampled frame (the
    packets after it, up to the next keyframe or the end, are not), and a group
    without one (keyframes denser than the grid) not at all; this trusts the
    container's keyframe flags. In a seekable file with more than one such
    group, ``threads`` decoders of one thread each take the groups in turn
    (``group_decoders``); else one decoder uses ``threads`` frame threads.
    When the keyframe pass did not read the stream in order, it is decoded
    through (as ``sample_frames`` does, skipping the keyframes taken).
    ``threads`` defaults to ``DECODE_THREADS``, one for frames above
    ``THREADED_PIXELS``.
    """
    container = _open(path)
    try:
        if threads is None:
            threads = _between_threads(container)
        groups = _groups(found)
        if threads > 1 and len(groups) > 1 and seekable(container):
            container.close()
            yield from decode_groups(path, groups, side, threads, _open)
        elif found.finished and found.in_order and found.taken:
            yield from _decode_between(
                container,
                sample_fps=sample_fps,
                side=side,
                found=found,
                threads=threads,
            )
        else:
            yield from _decode(
                container,
                path=path,
                sample_fps=sample_fps,
                side=side,
                pixel_format="rgb24",
                threads=threads,
                skip=found.taken,
            )
    finally:
        container.close()
        del container
        _free_decoder()


def _open(path: Path) -> av.container.InputContainer:
    """Open ``path`` reading its headers only (``frames._open``'s errors)."""
    if not path.is_file() or path.stat().st_size == 0:
        raise VideoDecodeError(f"{path.name} is empty or missing")
    try:
        return av.open(str(path), options=PROBE_OPTIONS)
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise VideoDecodeError(f"{path.name} is not a readable video: {err}") from err


def _groups(found: KeyframePass) -> list[Group]:
    """The groups of pictures holding grid frames not yet taken, in order.

    Empty unless the keyframe pass read the whole stream in presentation
    order, starting with a keyframe (then each group decodes on its own).
    """
    if not (found.finished and found.in_order and found.taken):
        return []
    starts = found.keyframe_pts
    wanted = [pts for pts in found.grid if pts not in found.taken]
    if not starts or (wanted and wanted[0] < starts[0]):
        return []
    groups: dict[int, set[int]] = {}
    index = 0
    for pts in wanted:
        while index + 1 < len(starts) and starts[index + 1] <= pts:
            index += 1
        groups.setdefault(starts[index], set()).add(pts)
    return [Group(start, frozenset(pts)) for start, pts in groups.items()]


def _between_threads(container: av.container.InputContainer) -> int:
    """Decoders (or frame threads) for frames up to ``THREADED_PIXELS``, else 1."""
    if not container.streams.video:
        return DECODE_THREADS
    context = container.streams.video[0].codec_context
    return 1 if context.width * context.height > THREADED_PIXELS else DECODE_THREADS


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
    path: Path, sample_fps: float, side: int
) -> Generator[SampledFrame]:
    """The keyframes on the grid, then the other sampled frames (each once)."""
    found = KeyframePass()
    yield from sample_keyframes(path, sample_fps, side, found)
    if not found.covers_grid:
        yield from sample_between(path, sample_fps, side, found)
