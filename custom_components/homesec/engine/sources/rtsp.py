"""RTSP source: motion on a low-resolution stream, stream-copy recording of the main.

Each stream is read by its own thread (libav reads block). The main stream's
packets go through a pre-roll ring into the recorder; motion is found by
blurred frame differencing on the substream (or on the main stream when there
is no substream), sampled at ``motion_fps``. The substream's packets are also
recorded beside each clip (same connection), for detection to scan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
import logging
from pathlib import Path
import threading
import time
from typing import Literal

import av
import av.error
import av.video
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ..detect.zones import Polygon
from ..faults import Fault, FaultError, fault_of
from ..interfaces import BlockingRunner, ClipSink, ClipSource
from ..live import LiveCamera
from ..models import Clip
from ..redact import redact_url
from ..spool import Spool
from ..text import count
from .handover import hand_over
from .motion_gate import MotionGate
from .recorder import Recorder, adopt_recordings
from .stream import (
    VideoPacket,
    copy_packet,
    describe_stream_error,
    open_stream,
)
from .substream import SubstreamRecorder

_LOGGER = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60.0


class RtspSettings(BaseModel):
    """Streams, motion sensitivity and recording bounds of one RTSP camera."""

    model_config = ConfigDict(frozen=True)

    url: SecretStr
    """Main stream, credentials included (never logged)."""
    motion_url: SecretStr | None = None
    """Low-resolution substream for motion detection; None: use the main stream."""
    transport: Literal["tcp", "udp"] = "tcp"
    motion_fps: float = Field(default=5.0, gt=0, le=30)
    motion_width: int = Field(default=320, ge=32, le=1920)
    pixel_threshold: int = Field(default=25, ge=1, le=255)
    min_changed_pct: float = Field(default=1.0, gt=0, le=100)
    blur: int = Field(default=5, ge=0, le=51)
    pre_roll_s: float = Field(default=3.0, ge=0, le=30)
    stop_delay_s: float = Field(default=5.0, gt=0, le=300)
    max_recording_s: float = Field(default=60.0, ge=5, le=3600)
    open_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=5.0, gt=0)
    reconnect_max_s: float = Field(default=60.0, ge=1)
    masks: tuple[Polygon, ...] = ()
    """The camera's masks: motion inside them starts no recording."""


class _StreamWorker:
    """Reads one stream in a thread; reconnects with exponential backoff."""

    def __init__(  # noqa: PLR0917 - one worker per stream, built in one place
        self,
        label: str,
        url: str,
        settings: RtspSettings,
        stop: threading.Event,
        on_open: Callable[[av.video.stream.VideoStream], None],
        on_packet: Callable[[VideoPacket, float], None],
        on_lost: Callable[[], None],
        clock: Callable[[], float],
    ) -> None:
        self.label = label
        self._url = url
        self._settings = settings
        self._stop = stop
        self._on_open = on_open
        self._on_packet = on_packet
        self._on_lost = on_lost
        self._clock = clock
        self.problem: str | None = None
        self.fault: Fault | None = None
        self.last_packet_wall: float | None = None
        self.packets = 0
        self._thread: threading.Thread | None = None

    def start(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._read_once()
                delay = 1.0  # it was up: come back quickly
                reason, fault = "the stream ended", Fault.STREAM_ENDED
            except Exception as err:  # noqa: BLE001 - a camera thread never dies
                reason, fault = describe_stream_error(err, self._url), fault_of(err)
            finally:
                self._on_lost()
            if self._stop.is_set():
                return
            self._set_problem(reason, fault)
            self._stop.wait(delay)
            delay = min(delay * 2, self._settings.reconnect_max_s)

    def _read_once(self) -> None:
        container = open_stream(
            self._url,
            transport=self._settings.transport,
            open_timeout=self._settings.open_timeout_s,
            read_timeout=self._settings.read_timeout_s,
        )
        with container:
            if not container.streams.video:
                raise FaultError("the stream has no video", Fault.NO_VIDEO)
            stream = container.streams.video[0]
            self._on_open(stream)
            heartbeat = self._clock()
            for packet in container.demux(stream):
                if self._stop.is_set():
                    return
                now = self._clock()
                if self.problem is not None:
                    _LOGGER.info(
                        "%s stream %s is back", self.label, redact_url(self._url)
                    )
                    self.problem = self.fault = None
                self.last_packet_wall = now
                self.packets += 1
                self._on_packet(packet, now)
                if now - heartbeat >= HEARTBEAT_SECONDS:
                    heartbeat = now
                    _LOGGER.debug(
                        "%s stream %s: %s so far", self.label,
                        redact_url(self._url), count(self.packets, "packet"),
                    )  # fmt: skip

    def _set_problem(self, reason: str, fault: Fault) -> None:
        if reason != self.problem:
            _LOGGER.error(
                "%s stream %s failed: %s (retrying with backoff)",
                self.label, redact_url(self._url), reason,
            )  # fmt: skip
        self.problem = reason
        self.fault = fault


class RtspSource(ClipSource):
    """Records clips from an RTSP camera when it sees motion."""

    def __init__(
        self,
        camera_name: str,
        settings: RtspSettings,
        spool: Spool,
        run_blocking: BlockingRunner,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Nothing connects until ``start``."""
        self.camera_name = camera_name
        self._settings = settings
        self._spool = spool
        self._run = run_blocking
        self._clock = clock
        self._stop = threading.Event()
        self._gate = MotionGate(
            settings.pixel_threshold,
            settings.min_changed_pct,
            settings.blur,
            settings.masks,
        )
        self._last_sample = 0.0
        self._motion_at: float | None = None
        self._wanted_until = 0.0
        self._substream = (
            None
            if settings.motion_url is None
            else SubstreamRecorder(camera_name, settings.pre_roll_s)
        )
        self._recorder = Recorder(
            spool.camera_dir(camera_name),
            pre_roll=settings.pre_roll_s,
            max_seconds=settings.max_recording_s,
            on_finished=self._finished,
            companion=self._substream,
            on_started=self._started,
        )
        self._live: LiveCamera | None = None
        self._reserved: Clip | None = None
        """The clip being recorded, under the id live detection told (live only)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sink: ClipSink | None = None
        main_url = settings.url.get_secret_value()
        self._workers = [
            _StreamWorker(
                "Main", main_url, settings, self._stop, self._recorder.stream_opened,
                self._on_main_packet, self._recorder.finish, clock,
            )
        ]  # fmt: skip
        if settings.motion_url is not None:
            self._workers.append(
                _StreamWorker(
                    "Motion", settings.motion_url.get_secret_value(), settings,
                    self._stop, self._motion_opened, self._on_motion_packet,
                    self._motion_lost, clock,
                )
            )  # fmt: skip

    @property
    def problem(self) -> str | None:
        """The first failing stream's reason (no credentials)."""
        return next((w.problem for w in self._workers if w.problem), None)

    @property
    def fault(self) -> Fault | None:
        """The kind of the first failing stream's problem."""
        return next((w.fault for w in self._workers if w.problem), None)

    @property
    def last_frame_at(self) -> datetime | None:
        """Heartbeat: when the main stream last delivered a packet."""
        wall = self._workers[0].last_packet_wall
        return None if wall is None else datetime.fromtimestamp(wall, UTC)

    def watch_live(self, live: LiveCamera) -> bool:
        """Check the frames read for motion for objects while recording."""
        self._live = live
        return True

    async def start(self, sink: ClipSink) -> None:
        """Hand over recordings a crash left behind, then start reading streams."""
        self._loop = asyncio.get_running_loop()
        self._sink = sink
        self._stop.clear()
        for clip in await self._run(self._adopt_leftovers):
            await sink(clip)
        if self._live is not None:
            await self._live.start()
        for worker in self._workers:
            worker.start(f"homesec {worker.label.lower()} {self.camera_name}")

    async def stop(self) -> None:
        """Stop reading; a clip being recorded is finalized and handed over."""
        self._stop.set()
        for worker in self._workers:
            await self._run(worker.join)
        if self._live is not None:
            await self._live.stop()
        if (reserved := self._reserved) is not None:
            self._reserved = None
            await self._run(self._spool.release, reserved)

    def _adopt_leftovers(self) -> list[Clip]:
        self._spool.tidy(self.camera_name)
        return adopt_recordings(self._spool, self.camera_name, "rtsp")

    can_record = True

    def record(self, seconds: float | None = None) -> None:
        """Record for ``seconds`` (default ``stop_delay_s``) from now, with pre-roll.

        Thread-safe: the stream thread reads the deadline at its next packet.
        """
        length = seconds or self._settings.stop_delay_s
        self._wanted_until = max(self._wanted_until, self._clock() + length)

    def _active(self, now: float) -> bool:
        if now < self._wanted_until:
            return True
        motion = self._motion_at
        return motion is not None and now - motion <= self._settings.stop_delay_s

    def _on_main_packet(self, packet: VideoPacket, now: float) -> None:
        if len(self._workers) == 1:
            self._detect_motion(packet, now)
        copied = copy_packet(packet, now)
        if copied is not None:
            self._recorder.on_packet(copied, self._active(now))

    def _motion_opened(self, stream: av.video.stream.VideoStream) -> None:
        self._gate.reset()
        if self._substream is not None:
            self._substream.stream_opened(stream)

    def _on_motion_packet(self, packet: VideoPacket, now: float) -> None:
        self._detect_motion(packet, now)
        copied = copy_packet(packet, now)
        if copied is not None and self._substream is not None:
            self._substream.on_packet(copied)

    def _motion_lost(self) -> None:
        self._gate.reset()
        if self._substream is not None:
            self._substream.lost()

    def _detect_motion(self, packet: VideoPacket, now: float) -> None:
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            return  # a damaged packet: the next keyframe repairs the picture
        for frame in frames:
            if now - self._last_sample < 1.0 / self._settings.motion_fps:
                continue
            self._last_sample = now
            width = min(self._settings.motion_width, frame.width)
            height = max(2, round(frame.height * width / frame.width / 2) * 2)
            gray = frame.reformat(width=width, height=height, format="gray")
            if self._gate.feed(np.asarray(gray.to_ndarray(), dtype=np.uint8)):
                self._motion_at = now
            self._offer_live(frame, now)

    def _offer_live(self, frame: av.VideoFrame, now: float) -> None:
        """While motion holds the recording, live detection may check the frame."""
        live, motion = self._live, self._motion_at
        holding = motion is not None and now - motion <= self._settings.stop_delay_s
        if live is not None and holding:
            live.offer(frame, now)

    def _started(self, first_wall: float) -> None:
        """A recording started: with live detection, its clip id is reserved now."""
        live = self._live
        if live is None:
            return
        started = datetime.fromtimestamp(first_wall, UTC)
        stale, self._reserved = self._reserved, None
        try:
            if stale is not None:  # a recording that never became a clip
                self._spool.release(stale)
            self._reserved = self._spool.reserve(self.camera_name, "rtsp", started)
        except OSError as err:
            _LOGGER.warning(
                "%s: no live detection for this clip: %s", self.camera_name, err
            )
            return
        live.begin(self._reserved, first_wall)

    def _finished(self, path: Path, first_wall: float, detection: Path | None) -> None:
        started = datetime.fromtimestamp(first_wall, UTC)
        reserved, self._reserved = self._reserved, None
        if self._live is not None:
            self._live.end()
        try:
            clip = self._spool.adopt(
                path, self.camera_name, "rtsp", started, detection=detection,
                clip_id=None if reserved is None else reserved.clip_id,
            )  # fmt: skip
        except OSError as err:
            if reserved is not None:
                self._spool.release(reserved)
            if detection is not None:
                detection.unlink(missing_ok=True)
            _LOGGER.warning("Could not take %s into the spool: %s", path.name, err)
            return
        _LOGGER.debug("Recorded %s", clip.clip_id)
        hand_over(self._loop, self._sink, clip)
