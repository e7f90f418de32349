"""On-demand recordings: a stream copied while a trigger holds, or MJPEG snapshots."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
import io
import math
from pathlib import Path
import secrets
import threading

import av
import av.error
from PIL import Image

from .recorder import RECORDING_PREFIX, Recorder
from .stream import VideoPacket, copy_packet, open_stream

type Active = Callable[[float], bool]
"""Whether the recording should go on at this wall time."""
type FrameHook = Callable[[av.VideoFrame, float], None]
"""A decoded frame and the wall time its packet arrived."""


def record_stream(
    url: str,
    folder: Path,
    *,
    active: Active,
    max_seconds: float,
    clock: Callable[[], float],
    stop: threading.Event,
    open_timeout: float = 10.0,
    read_timeout: float = 5.0,
    on_started: Callable[[float], None] | None = None,
    on_keyframe: FrameHook | None = None,
) -> tuple[Path, float] | None:
    """Copy ``url`` from its next keyframe while ``active`` (``max_seconds`` at most).

    Blocking. Returns the hidden recording and its first packet's wall time, or
    None when nothing was recorded. Raises the stream's error when it cannot open.
    ``on_started`` hears of the first packet's wall time; ``on_keyframe`` gets
    each keyframe recorded, decoded (only keyframes are decoded: cheap).
    """
    finished: list[tuple[Path, float]] = []
    recorder = Recorder(  # never rotates: the loop below ends at max_seconds
        folder,
        pre_roll=0.0,
        max_seconds=math.inf,
        on_finished=lambda path, wall, _: finished.append((path, wall)),
        on_started=on_started,
    )
    container = open_stream(
        url, transport="tcp", open_timeout=open_timeout, read_timeout=read_timeout
    )
    deadline = clock() + max_seconds
    try:
        with container:
            stream = container.streams.video[0]
            recorder.stream_opened(stream)
            for packet in container.demux(stream):
                now = clock()
                copied = copy_packet(packet, now)
                if copied is not None:
                    keep_going = now < deadline and active(now) and not stop.is_set()
                    recorder.on_packet(copied, keep_going)
                    if on_keyframe is not None and copied.keyframe:
                        _decode_keyframe(packet, now, on_keyframe)
                    if not keep_going and not recorder.recording:
                        break
    finally:
        recorder.finish()
    return finished[0] if finished else None


def _decode_keyframe(packet: VideoPacket, now: float, hook: FrameHook) -> None:
    try:
        frames = packet.decode()
    except av.error.FFmpegError:
        return  # a damaged keyframe: the next one will do
    for frame in frames:
        if isinstance(frame, av.VideoFrame):
            hook(frame, now)


class SnapshotClip:
    """Writes JPEG snapshots, unchanged, as an MJPEG video in Matroska."""

    def __init__(self, folder: Path, fps: float) -> None:
        """Frames are ``1 / fps`` seconds apart."""
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{RECORDING_PREFIX}{secrets.token_hex(6)}.mkv"
        self._fps = Fraction(fps).limit_denominator(1000)
        self._out: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self.frames = 0

    def add(self, jpeg: bytes) -> None:
        """Append one JPEG frame (blocking)."""
        if self._out is None:
            with Image.open(io.BytesIO(jpeg)) as image:
                width, height = image.size
            self._out = av.open(str(self.path), "w", format="matroska")
            self._stream = self._out.add_stream("mjpeg", rate=self._fps)
            self._stream.width = width
            self._stream.height = height
            self._stream.pix_fmt = "yuvj420p"
            self._stream.time_base = 1 / self._fps
        assert self._stream is not None
        packet = av.Packet(jpeg)
        packet.pts = packet.dts = self.frames
        packet.time_base = 1 / self._fps
        packet.is_keyframe = True
        packet.stream = self._stream
        self._out.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Finish the file (blocking)."""
        if self._out is not None:
            self._out.close()
        elif self.path.exists():
            self.path.unlink()
