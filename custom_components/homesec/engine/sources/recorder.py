"""When clips start, rotate and end, fed packet by packet from a stream thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import logging
from pathlib import Path
import secrets
from typing import Protocol

import av.video

from ..models import Clip
from ..spool import Spool
from .readable import readable_media
from .stream import ClipWriter, PacketRing, StreamPacket
from .substream import RECORDING_SUFFIX, detection_recording

_LOGGER = logging.getLogger(__name__)

RECORDING_PREFIX = ".rec_"
"""Recordings in progress: hidden in the spool folder until finalized."""

RECORDING_SUFFIXES = (".mp4", ".mkv")
"""Stream copies are fragmented MP4, snapshot clips Matroska: both stay playable
when cut short."""

type FinishedRecording = Callable[[Path, float, Path | None], None]
"""Called with a closed recording's file, its first packet's wall time and its
companion recording (None: none)."""


class Companion(Protocol):
    """A second recording kept over the same window as each clip."""

    def begin(self, clip_recording: Path, origin: float) -> None:
        """A clip started; its first packet arrived at ``origin``."""

    def end(self) -> Path | None:
        """The clip ended: the companion recording, or None."""


class Recorder:
    """Records while ``active`` says so, with pre-roll and bounded clip length.

    Not thread-safe: one stream thread owns it. A clip starts with the buffered
    pre-roll (from a keyframe), ends ``stop_delay`` after the trigger went quiet
    (the caller's ``active``), and rotates at a keyframe after ``max_seconds``.
    """

    def __init__(
        self,
        folder: Path,
        *,
        pre_roll: float,
        max_seconds: float,
        on_finished: FinishedRecording,
        companion: Companion | None = None,
        on_started: Callable[[float], None] | None = None,
    ) -> None:
        """Write recordings into ``folder`` and hand each one to ``on_finished``.

        ``companion`` starts and ends with each clip (the substream's recording);
        ``on_started`` hears of each clip's first packet's wall time.
        """
        self._on_started = on_started
        self._folder = folder
        self._companion = companion
        self._ring = PacketRing(pre_roll)
        self._max_seconds = max_seconds
        self._on_finished = on_finished
        self._writer: ClipWriter | None = None
        self._template: av.video.stream.VideoStream | None = None

    @property
    def recording(self) -> bool:
        """Whether a clip is being written."""
        return self._writer is not None

    def stream_opened(self, template: av.video.stream.VideoStream) -> None:
        """A (new) connection: its stream gives the codec parameters."""
        self._template = template
        self._ring.clear()

    def on_packet(self, packet: StreamPacket, active: bool) -> None:
        """Buffer or write one packet; ``active`` says the trigger still holds."""
        writer = self._writer
        if writer is None:
            self._ring.append(packet)
            if active and len(self._ring):  # the ring starts with a keyframe
                self._start(self._ring.drain())
            return
        if not active:
            self.finish()
            self._ring.append(packet)
            return
        if packet.keyframe and packet.wall - (writer.first_wall or 0) >= (
            self._max_seconds
        ):
            self.finish()
            self._start([packet])
            return
        writer.write(packet)

    def _start(self, packets: list[StreamPacket]) -> None:
        if not packets or not packets[0].keyframe or self._template is None:
            return
        path = self._folder / f"{RECORDING_PREFIX}{secrets.token_hex(6)}.mp4"
        self._folder.mkdir(parents=True, exist_ok=True)
        writer = ClipWriter(path, self._template)
        self._writer = writer
        writer.write_all(packets)
        if writer.first_wall is None:
            return
        if self._on_started is not None:
            self._on_started(writer.first_wall)
        if self._companion is not None:
            self._companion.begin(path, writer.first_wall)

    def finish(self) -> None:
        """Close the clip being written, if any, and hand it over."""
        writer, self._writer = self._writer, None
        if writer is None:
            return
        companion = None if self._companion is None else self._companion.end()
        try:
            writer.close()
        except (OSError, ValueError) as err:
            _LOGGER.warning("Could not finish recording %s: %s", writer.path.name, err)
        if writer.packets and writer.first_wall is not None:
            self._on_finished(writer.path, writer.first_wall, companion)
        else:
            writer.path.unlink(missing_ok=True)
            if companion is not None:
                companion.unlink(missing_ok=True)


def adopt_recordings(spool: Spool, camera_name: str, source_type: str) -> list[Clip]:
    """Recordings a crash left in the camera's spool folder, as clips (blocking).

    Call before the camera's source runs (nothing is being recorded then). A
    recording cut short is still playable (fragmented MP4, Matroska): it becomes
    a clip, with its substream recording when that one is readable too; an
    empty or unreadable one is deleted, and so is a substream recording
    without its clip. Logged once.
    """
    folder = spool.camera_dir(camera_name)
    if not folder.is_dir():
        return []
    clips: list[Clip] = []
    dropped = 0
    leftovers = sorted(folder.glob(f"{RECORDING_PREFIX}*"))
    for path in leftovers:
        if not path.is_file() or path.suffix not in RECORDING_SUFFIXES:
            continue
        if path.name.endswith(RECORDING_SUFFIX):
            continue  # taken with its clip; alone, deleted after the loop
        if not _usable(path):
            path.unlink(missing_ok=True)
            dropped += 1
            continue
        companion = detection_recording(path)
        if not _usable(companion):
            companion.unlink(missing_ok=True)
        started = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        clips.append(
            spool.adopt(
                path, camera_name, source_type, started,
                detection=companion if companion.exists() else None,
            )
        )  # fmt: skip
    for path in leftovers:  # substream recordings whose clip was unusable
        if path.name.endswith(RECORDING_SUFFIX):
            path.unlink(missing_ok=True)
    if clips or dropped:
        _LOGGER.warning(
            "%s: interrupted recordings: %d kept as clips, %d unreadable deleted",
            camera_name, len(clips), dropped,
        )  # fmt: skip
    return clips


def _usable(path: Path) -> bool:
    """Whether a recording a crash left is a non-empty, readable video."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return False
    except OSError:
        return False
    return readable_media(path)
