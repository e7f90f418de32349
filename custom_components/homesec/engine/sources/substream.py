"""The substream's recording beside each main-stream clip, for detection.

The substream is already read for motion; its packets are also kept in a
pre-roll ring and, while the main recorder writes a clip, stream-copied into a
hidden Matroska file next to it (no re-encode, no second connection). The file
starts at the substream's first keyframe at or after the clip's start, placed
on the clip's timeline (a detection's time is the same in both files). A
substream that fails, drops or starts too late leaves the clip without one:
detection then reads the main clip. Logged once until it works again.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
import logging
from pathlib import Path
import threading

import av.error
import av.video

from .stream import ClipWriter, PacketRing, StreamPacket

_LOGGER = logging.getLogger(__name__)

ARRIVAL_JITTER_S = 0.25
"""A substream keyframe arriving this much before the clip's start still counts."""
MAX_LATE_S = 4.0
"""A substream recording starting later than this after its clip is dropped (it
would miss what the clip shows first; cameras' GOPs are 1-4 s)."""
RING_MARGIN_S = 10.0
"""Substream kept beyond the pre-roll, so the clip's start is still held."""


RECORDING_SUFFIX = ".substream.mkv"
"""A substream recording in progress: ``.rec_<token>.substream.mkv`` beside the
main recording ``.rec_<token>.mp4``; the spool renames it when it takes the clip."""


def detection_recording(clip_recording: Path) -> Path:
    """The substream recording written beside a main recording in progress."""
    return clip_recording.with_name(clip_recording.stem + RECORDING_SUFFIX)


@dataclass(slots=True)
class _Window:
    """One main clip's time: its substream file, writer, and what went wrong."""

    path: Path
    origin: float
    writer: ClipWriter | None = None
    problem: str | None = None


class SubstreamRecorder:
    """Records the substream over each window the main recorder opens.

    Thread-safe: the substream's thread feeds packets (``stream_opened``,
    ``on_packet``, ``lost``); the main stream's thread opens and closes windows
    (``begin``, ``end``).
    """

    def __init__(self, camera_name: str, pre_roll: float) -> None:
        """Hold enough substream to start where a clip's pre-roll starts."""
        self._camera = camera_name
        self._lock = threading.Lock()
        self._ring = PacketRing(pre_roll + RING_MARGIN_S)
        self._template: av.video.stream.VideoStream | None = None
        self._window: _Window | None = None
        self._failing = False

    def stream_opened(self, template: av.video.stream.VideoStream) -> None:
        """A (new) substream connection; a recording under way cannot go on."""
        with self._lock:
            self._template = template
            self._ring.clear()
            self._spoil("the substream reconnected")

    def lost(self) -> None:
        """The substream dropped; a recording under way is incomplete."""
        with self._lock:
            self._ring.clear()
            self._spoil("the substream dropped")

    def on_packet(self, packet: StreamPacket) -> None:
        """Buffer one substream packet, and write it when a window is open."""
        with self._lock:
            self._ring.append(packet)
            window = self._window
            if window is None or window.problem is not None:
                return
            if window.writer is not None or (
                packet.keyframe and packet.wall >= window.origin - ARRIVAL_JITTER_S
            ):
                self._write(window, [packet])

    def begin(self, clip_recording: Path, origin: float) -> None:
        """The main recorder started ``clip_recording`` (first packet at ``origin``)."""
        with self._lock:
            if self._window is not None:  # not ended: never happens, costs nothing
                self._discard(self._window)
            window = _Window(detection_recording(clip_recording), origin)
            self._window = window
            held = self._ring.since(origin - ARRIVAL_JITTER_S)
            if held:
                self._write(window, held)

    def end(self) -> Path | None:
        """The main clip ended: its substream recording, or None (logged once)."""
        with self._lock:
            window, self._window = self._window, None
        if window is None:
            return None
        writer = window.writer
        problem = window.problem
        if writer is None:
            problem = problem or "no substream picture arrived during the clip"
        else:
            try:
                writer.close()
            except (av.error.FFmpegError, OSError, ValueError) as err:
                problem = problem or f"it could not be finished: {err}"
            late = (writer.first_wall or window.origin) - window.origin
            if problem is None and late > MAX_LATE_S:
                problem = f"it started {late:.1f} s after the clip"
        if problem is not None:
            window.path.unlink(missing_ok=True)
            self._report(problem)
            return None
        if self._failing:
            _LOGGER.info("%s: the substream is recorded with clips again", self._camera)
            self._failing = False
        return window.path

    def _write(self, window: _Window, packets: list[StreamPacket]) -> None:
        """Write packets into the window's file, opening it at the first (locked)."""
        try:
            if window.writer is None:
                if self._template is None:
                    return
                start = max(0.0, packets[0].wall - window.origin)
                window.path.parent.mkdir(parents=True, exist_ok=True)
                window.writer = ClipWriter(window.path, self._template, start)
            window.writer.write_all(packets)
        except (av.error.FFmpegError, OSError, ValueError) as err:
            self._spoil(f"it could not be written: {err}")

    def _spoil(self, problem: str) -> None:
        """The open window's recording is incomplete: stop writing it (locked)."""
        window = self._window
        if window is None or window.writer is None or window.problem is not None:
            return
        window.problem = problem
        self._discard(window)

    @staticmethod
    def _discard(window: _Window) -> None:
        writer, window.writer = window.writer, None
        if writer is not None:
            with suppress(av.error.FFmpegError, OSError, ValueError):
                writer.close()  # deleted below anyway
        window.path.unlink(missing_ok=True)

    def _report(self, problem: str) -> None:
        if self._failing:
            _LOGGER.debug("%s: substream not recorded: %s", self._camera, problem)
            return
        self._failing = True
        _LOGGER.warning(
            "%s: the substream was not recorded with a clip (%s); detection reads "
            "the main stream until it is",
            self._camera, problem,
        )  # fmt: skip
