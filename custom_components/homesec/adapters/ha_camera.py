"""Home Assistant camera source: records an existing camera entity on a trigger.

A recording starts when the trigger entity turns on (or on ``record``), copies
the camera's stream with libav, or, for cameras without a stream, collects
snapshots into an MJPEG clip. It goes on while the trigger is on, then for
``stop_delay_s``, and never longer than ``max_recording_s``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import logging
import math
from pathlib import Path
import threading
import time

from homeassistant.components import camera
from homeassistant.const import STATE_ON
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event
from pydantic import BaseModel, ConfigDict, Field

from ..engine.faults import Fault, fault_of
from ..engine.interfaces import ClipSink, ClipSource
from ..engine.live import LiveCamera
from ..engine.models import Clip
from ..engine.redact import redact_text
from ..engine.sources.one_shot import SnapshotClip, record_stream
from ..engine.sources.recorder import adopt_recordings
from ..engine.sources.stream import describe_stream_error
from ..engine.spool import Spool

_LOGGER = logging.getLogger(__name__)


class HaCameraSettings(BaseModel):
    """Which camera, what starts a recording, and how long it lasts."""

    model_config = ConfigDict(frozen=True)

    camera_entity: str
    trigger_entity: str | None = None
    clip_seconds: float = Field(default=10.0, gt=0, le=600)
    """Length of a recording started by the action (or a trigger's minimum)."""
    stop_delay_s: float = Field(default=5.0, ge=0, le=300)
    max_recording_s: float = Field(default=60.0, ge=5, le=3600)
    snapshot_fps: float = Field(default=1.0, gt=0, le=10)


class HaCameraSource(ClipSource):
    """Turns a Home Assistant camera into a clip source."""

    def __init__(
        self,
        hass: HomeAssistant,
        camera_name: str,
        settings: HaCameraSettings,
        spool: Spool,
    ) -> None:
        """Nothing is recorded before ``start``."""
        self.hass = hass
        self.camera_name = camera_name
        self._settings = settings
        self._spool = spool
        self._sink: ClipSink | None = None
        self._unsub: CALLBACK_TYPE | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = threading.Event()
        self._until = 0.0
        self._problem: str | None = None
        self._fault: Fault | None = None
        self._live: LiveCamera | None = None
        self._reserved: Clip | None = None

    def watch_live(self, live: LiveCamera) -> bool:
        """Check the stream's keyframes for objects while recording."""
        self._live = live
        return True

    @property
    def problem(self) -> str | None:
        """Why the camera could not be recorded."""
        return self._problem

    @property
    def fault(self) -> Fault | None:
        """The kind of ``problem``."""
        return self._fault

    @property
    def recording(self) -> bool:
        """Whether a recording is running."""
        return self._task is not None and not self._task.done()

    async def start(self, sink: ClipSink) -> None:
        """Hand over recordings a crash left behind, then follow the trigger."""
        self._sink = sink
        self._stop.clear()
        await self.hass.async_add_executor_job(self._spool.tidy, self.camera_name)
        for clip in await self.hass.async_add_executor_job(
            adopt_recordings, self._spool, self.camera_name, "ha_camera"
        ):
            await sink(clip)
        if self._settings.trigger_entity:
            self._unsub = async_track_state_change_event(
                self.hass, self._settings.trigger_entity, self._trigger_changed
            )
        if self._live is not None:
            await self._live.start()

    async def stop(self) -> None:
        """Stop following the trigger; a running recording is finalized."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None
        self._stop.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._live is not None:
            await self._live.stop()

    can_record = True

    @callback
    def record(self, seconds: float | None = None) -> None:
        """Record for ``seconds`` (default ``clip_seconds``) from now."""
        length = seconds or self._settings.clip_seconds
        self._until = max(self._until, time.time() + length)
        self._ensure_recording()

    @callback
    def _trigger_changed(self, event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.state == STATE_ON:
            self._until = math.inf
            self._ensure_recording(minimum=self._settings.clip_seconds)
        elif self._until == math.inf:
            self._until = time.time() + self._settings.stop_delay_s

    @callback
    def _ensure_recording(self, minimum: float = 0.0) -> None:
        if self.recording or self._stop.is_set():
            return
        self._task = self.hass.async_create_background_task(
            self._record(time.time() + minimum), f"homesec record {self.camera_name}"
        )

    def _active(self, now: float, started: float, minimum_until: float) -> bool:
        if now - started >= self._settings.max_recording_s:
            return False
        return now <= self._until or now <= minimum_until

    async def _record(self, minimum_until: float) -> None:
        started = time.time()
        entity_id = self._settings.camera_entity
        folder = self._spool.camera_dir(self.camera_name)
        try:
            url = await camera.async_get_stream_source(self.hass, entity_id)
        except HomeAssistantError as err:
            self._fail(f"{entity_id} is not available: {err}", Fault.CAMERA_UNAVAILABLE)
            return
        if url:
            try:
                result = await self.hass.async_add_executor_job(
                    lambda: record_stream(
                        url,
                        folder,
                        active=lambda now: self._active(now, started, minimum_until),
                        max_seconds=self._settings.max_recording_s,
                        clock=time.time,
                        stop=self._stop,
                        on_started=self._started if self._live else None,
                        on_keyframe=self._live.offer if self._live else None,
                    )
                )
            except Exception as err:  # noqa: BLE001 - libav raises many kinds
                self._fail(describe_stream_error(err, url), fault_of(err))
                await self._release()
                return
            finally:
                if self._live is not None:
                    self._live.end()
        else:
            result = await self._record_snapshots(started, minimum_until)
        if result is None:
            await self._release()
            return
        path, first_wall = result
        reserved, self._reserved = self._reserved, None
        clip: Clip = await self.hass.async_add_executor_job(
            lambda: self._spool.adopt(
                path, self.camera_name, "ha_camera",
                datetime.fromtimestamp(first_wall, UTC),
                clip_id=None if reserved is None else reserved.clip_id,
            )
        )  # fmt: skip
        if self._problem is not None:
            _LOGGER.info("Camera %s can be recorded again", entity_id)
        self._problem = self._fault = None
        if self._sink is not None:
            await self._sink(clip)

    async def _record_snapshots(
        self, started: float, minimum_until: float
    ) -> tuple[Path, float] | None:
        entity_id = self._settings.camera_entity
        interval = 1.0 / self._settings.snapshot_fps
        writer = await self.hass.async_add_executor_job(
            SnapshotClip,
            self._spool.camera_dir(self.camera_name),
            self._settings.snapshot_fps,
        )
        first: float | None = None
        try:
            while not self._stop.is_set() and self._active(
                time.time(), started, minimum_until
            ):
                taken = time.time()
                try:
                    image = await camera.async_get_image(self.hass, entity_id)
                except HomeAssistantError as err:
                    self._fail(
                        f"{entity_id} gave no snapshot: {err}",
                        Fault.CAMERA_UNAVAILABLE,
                    )
                    break
                await self.hass.async_add_executor_job(writer.add, image.content)
                first = taken if first is None else first
                await asyncio.sleep(max(0.0, interval - (time.time() - taken)))
        finally:
            await self.hass.async_add_executor_job(writer.close)
        if first is None or writer.frames == 0:
            return None
        return writer.path, first

    def _started(self, first_wall: float) -> None:
        """The stream's recording started (its thread): reserve the clip's id."""
        started = datetime.fromtimestamp(first_wall, UTC)
        if self._live is None:
            return
        try:
            self._reserved = self._spool.reserve(self.camera_name, "ha_camera", started)
        except OSError as err:
            _LOGGER.warning(
                "%s: no live detection for this clip: %s", self.camera_name, err
            )
            return
        self._live.begin(self._reserved, first_wall)

    async def _release(self) -> None:
        """Drop the reserved id of a recording that made no clip."""
        reserved, self._reserved = self._reserved, None
        if reserved is not None:
            await self.hass.async_add_executor_job(self._spool.release, reserved)

    def _fail(self, reason: str, fault: Fault) -> None:
        reason = redact_text(reason)  # camera errors may quote the stream URL
        if reason != self._problem:
            _LOGGER.error("Cannot record %s: %s", self.camera_name, reason)
        self._problem = reason
        self._fault = fault
