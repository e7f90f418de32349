"""Clips for the user: the last one, where one is kept, snapshots, run again, record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from itertools import batched
from pathlib import Path

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from .builder import Engine
from .const import camera_signal
from .content_types import content_type
from .data import Cameras
from .engine.clip_names import detection_sidecar
from .engine.interfaces import ClipSource
from .engine.models import Clip, ClipFinished, ClipQueued, ClipState, LifecycleEvent
from .engine.spool import SpoolEntry

LOOKUP_BATCH = 10
"""Clip states read at once while looking for a camera's last clip."""


class Reason(StrEnum):
    """Why a request about a clip cannot be done (a translation key)."""

    NO_CLIP = "no_clip"
    CLIP_BUSY = "clip_busy"
    UNKNOWN_CLIP = "unknown_clip"
    NOT_IN_SPOOL = "clip_not_in_spool"
    CANNOT_RECORD = "cannot_record"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request about a camera or clip that cannot be done, and why."""

    reason: Reason
    camera_id: str
    clip_id: str = ""


def _file_inside(path: Path, roots: list[Path]) -> Path | None:
    """``path`` if it is a file inside one of ``roots`` (blocking)."""
    resolved = path.resolve()
    inside = any(resolved.is_relative_to(root.resolve()) for root in roots)
    return resolved if inside and resolved.is_file() else None


@dataclass(frozen=True, slots=True)
class RemoteClip:
    """A clip kept only in cloud storage: a link to it, and what it opens as."""

    url: str
    mime_type: str


class ClipAccess:
    """What entities, actions, views and the library ask about clips."""

    def __init__(
        self,
        hass: HomeAssistant,
        cameras: Cameras,
        engine: Engine,
        sources: Mapping[str, ClipSource],
    ) -> None:
        """Serve ``engine``'s clips; ``sources`` are the running ones."""
        self._hass = hass
        self._cameras = cameras
        self._engine = engine
        self._sources = sources
        self._handed: dict[str, Clip] = {}
        """The clip each camera handed to the pipeline last, since start."""
        self._last: dict[str, Clip] = {}
        """Each camera's last clip as found, until one of its clips is queued
        or finishes (the camera's picture asks for it often)."""
        self._changes: dict[str, int] = {}
        """How often each camera's clips were queued or finished."""

    @callback
    def async_listen(self, entry_id: str, camera_id: str) -> CALLBACK_TYPE:
        """Follow a camera's clips; return the unsubscribe."""
        return async_dispatcher_connect(
            self._hass, camera_signal(entry_id, camera_id), self._on_event
        )

    @callback
    def _on_event(self, event: LifecycleEvent) -> None:
        camera_id = event.clip.camera_name
        if isinstance(event, ClipQueued):
            self._handed[camera_id] = event.clip
        if isinstance(event, ClipQueued | ClipFinished):
            self._last.pop(camera_id, None)
            self._changes[camera_id] = self._changes.get(camera_id, 0) + 1

    def seen(self, camera_id: str) -> Clip | None:
        """The clip the camera handed over last since start, or None."""
        return self._handed.get(camera_id)

    async def async_last_clip(self, camera_id: str) -> Clip | None:
        """The camera's last clip: the newest by start time still in the spool.

        Clips arrive out of order (a late upload, a clip processed again), so
        the start time decides, not the arrival. A clip whose processing failed
        is skipped (when the state store can tell).
        """
        run = self._hass.async_add_executor_job
        known = self._last.get(camera_id)
        if known is not None and await run(known.local_path.is_file):
            return known
        changes = self._changes.get(camera_id, 0)
        entries = await run(self._engine.spool.newest_first, camera_id)
        for batch in batched(entries, LOOKUP_BATCH, strict=False):
            states = await self._engine.repository.get_many([e.clip_id for e in batch])
            for entry in batch:
                state = (states or {}).get(entry.clip_id)
                if state is None or not state.failed:
                    clip = self._spooled_clip(camera_id, entry, state)
                    # Kept unless the store was away or a clip came meanwhile
                    if states is not None and changes == self._changes.get(
                        camera_id, 0
                    ):
                        self._last[camera_id] = clip
                    return clip
        return None

    def _spooled_clip(
        self, camera_id: str, entry: SpoolEntry, state: ClipState | None
    ) -> Clip:
        camera = self._cameras.get(camera_id)
        source_type = camera.source_type if camera else "spool"
        if state is not None:
            return state.clip(
                entry.path,
                detection_path=entry.detection_path,
                start_ts=entry.mtime,
                source_type=source_type,
            )
        return Clip(
            clip_id=entry.clip_id,
            camera_name=camera_id,
            local_path=entry.path,
            start_ts=entry.mtime,
            source_type=source_type,
            detection_path=entry.detection_path,
        )

    async def async_analyze_last(self, camera_id: str) -> Clip | Refusal:
        """Run the camera's newest clip through the pipeline again."""
        clip = await self.async_last_clip(camera_id)
        if clip is None:
            return Refusal(Reason.NO_CLIP, camera_id)
        return await self.async_resubmit(clip)

    async def async_resubmit(self, clip: Clip) -> Clip | Refusal:
        """Queue a clip again from its first stage, unless it is in flight."""
        pipeline = self._engine.pipeline
        if pipeline.is_queued(clip.clip_id):
            return Refusal(Reason.CLIP_BUSY, clip.camera_name, clip.clip_id)
        await pipeline.submit(clip)
        return clip

    async def async_reprocess(self, clip_id: str) -> Clip | Refusal:
        """Run a clip still in the spool through the whole pipeline again."""
        state = await self._engine.repository.get(clip_id)
        if state is None:
            return Refusal(Reason.UNKNOWN_CLIP, "", clip_id)
        path = Path(state.local_path)
        if not await self._hass.async_add_executor_job(path.is_file):
            return Refusal(Reason.NOT_IN_SPOOL, state.camera_name, clip_id)
        clip = state.clip(
            path,
            detection_path=detection_sidecar(path),  # read only if it exists
            start_ts=dt_util.utcnow(),
        )
        return await self.async_resubmit(clip)

    @callback
    def record_now(
        self, camera_id: str, seconds: float | None = None
    ) -> Refusal | None:
        """Start recording the camera now (cameras with a stream only)."""
        source = self._sources.get(camera_id)
        if source is None or not source.can_record:
            return Refusal(Reason.CANNOT_RECORD, camera_id)
        source.record(seconds)
        return None

    async def async_snapshot(self, clip_id: str) -> bytes | None:
        """A clip's annotated snapshot, or None."""
        return await self._engine.snapshots.get(clip_id)

    async def async_latest_snapshot(self, camera_id: str) -> bytes | None:
        """The annotated snapshot of the camera's newest clip that has one."""
        for state in await self._engine.repository.recent(camera_id, 20) or []:
            if (jpeg := await self._engine.snapshots.get(state.clip_id)) is not None:
                return jpeg
        return None

    async def async_location(self, clip_id: str) -> Path | RemoteClip | None:
        """A clip's local file (spool or local storage), its remote copy, or None."""
        state = await self._engine.repository.get(clip_id)
        if state is None:
            return None
        engine = self._engine
        candidates = [Path(state.local_path)]
        if state.storage_uri and state.storage_uri.startswith("local:"):
            candidates.append(engine.local_root / state.storage_uri.split(":", 1)[1])
        roots = [engine.spool.root, engine.local_root]
        for candidate in candidates:
            found = await self._hass.async_add_executor_job(
                _file_inside, candidate, roots
            )
            if found is not None:
                return found
        if state.storage_uri and state.view_url:
            link = await engine.storage.temporary_link(state.storage_uri)
            if link is not None:
                name = Path(state.storage_uri.split(":", 1)[1]).name
                return RemoteClip(link, content_type(Path(name)))
            return RemoteClip(state.view_url, "text/html")
        return None
