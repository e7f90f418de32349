"""The hub's runtime: starts and stops the engine, its sources, timers and recovery."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .builder import Engine, apply_cameras
from .camera_controls import CameraControls
from .camera_entities import CameraEntities
from .camera_settings import CameraSettings
from .catch_up import CatchUp
from .clip_access import ClipAccess
from .const import (
    DETECTOR_PROBE_MINUTES,
    DISK_CHECK_MINUTES,
    DOMAIN,
    RECOVERY_RETRY_SECONDS,
    RETENTION_INTERVAL_MINUTES,
    SOURCE_HEALTH_SECONDS,
    STORAGE_PING_MINUTES,
    STORE_RETRY_MINUTES,
)
from .data import Cameras
from .engine.disk_guard import DiskLevel, Housekeeping, StoreFigures
from .engine.interfaces import ClipSource
from .engine.recovery import find_unfinished
from .engine.retention import RetentionPlan, RetentionSettings, apply_retention
from .engine.text import count
from .entry_snapshot import EntrySnapshot
from .history_pruning import HISTORY_PRUNE_INTERVAL, HistoryPrune, async_prune_history
from .hub_health import HubHealth
from .notify_outputs import notify_keys
from .persisted_state import PersistedState
from .settings import HubSettings
from .source_kinds import SOURCE_KINDS

_LOGGER = logging.getLogger(__name__)

LIMITS_APPLIED: HassKey[dict[str, object]] = HassKey(f"{DOMAIN}_limits_applied")
"""Per hub, the limits its last start-time retention pass applied (this run)."""


class HomeSecRuntime:
    """Runs one hub's engine while its config entry is loaded."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        settings: HubSettings,
        cameras: Cameras,
        engine: Engine,
        retention: RetentionSettings,
        housekeeping: Housekeeping,
        collaborators: tuple[CameraControls, HubHealth, ClipAccess],
        sources: dict[str, ClipSource],
        persisted: PersistedState,
        history_max_age: timedelta | None,
    ) -> None:
        """Nothing starts until ``async_start``."""
        self._hass = hass
        self._entry = entry
        self._settings = settings
        self._cameras = cameras
        self._applied = EntrySnapshot.of(entry)
        """What the hub runs now: an update is compared with it."""
        self._apply_lock = asyncio.Lock()
        self.camera_entities = CameraEntities()
        """The platforms' camera entities, for cameras added or changed later."""
        self._camera_unsubscribe: dict[str, CALLBACK_TYPE] = {}
        self._engine = engine
        self._controls, self._health, self._clips = collaborators
        self._catch_up = CatchUp(hass, entry, engine, self._health)
        self.sources = sources
        """The running sources by camera id."""
        self.retention = retention
        """The spool's limits."""
        self.last_retention: RetentionPlan | None = None
        self.housekeeping = housekeeping
        """The clip store's retention and the free disk guard."""
        self._housekeeping_lock = asyncio.Lock()
        self.recording_stopped = False
        """Whether the sources were stopped because the disk is nearly full."""
        self._stopped = False
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._recovery: asyncio.Task[None] | None = None
        self._resumes: set[asyncio.Task[None]] = set()
        self._persisted = persisted
        self.history_max_age = history_max_age
        """How long clip history is kept (None: for ever)."""
        self.last_history_prune: HistoryPrune | None = None

    async def async_start(self) -> None:
        """Prepare folders and the state store (the store may be down)."""
        await self._hass.async_add_executor_job(self._make_folders)
        await self._persisted.async_load()
        if await self._engine.repository.start():
            await self._async_learn_clip_ids()

    async def async_start_sources(self) -> None:
        """Start sources (after entities subscribed), recovery and the timers."""
        for camera_id in self._cameras:
            self._camera_unsubscribe[camera_id] = self._clips.async_listen(
                self._entry.entry_id, camera_id
            )
        await self.async_guard_disks()
        if not self.recording_stopped:
            await self._async_start_camera_sources()
        self._recovery = self._entry.async_create_background_task(
            self._hass, self._async_recover(), "homesec recovery"
        )
        self._unsubscribe.append(self._controls.async_listen())
        self._health.on_detector_back(self._catch_up.detector_back)
        catch_up = self._catch_up
        await catch_up.async_ping_storage()
        for action, every in (
            (self._health.check, timedelta(seconds=SOURCE_HEALTH_SECONDS)),
            (catch_up.async_ping_storage, timedelta(minutes=STORAGE_PING_MINUTES)),
            (catch_up.async_store_tick, timedelta(minutes=STORE_RETRY_MINUTES)),
            (catch_up.async_probe_detector, timedelta(minutes=DETECTOR_PROBE_MINUTES)),
            (self._async_retention_tick, timedelta(minutes=RETENTION_INTERVAL_MINUTES)),
            (self._async_prune_tick, HISTORY_PRUNE_INTERVAL),
            (self._async_guard_tick, timedelta(minutes=DISK_CHECK_MINUTES)),
        ):
            self._unsubscribe.append(
                async_track_time_interval(
                    self._hass, action, every, cancel_on_shutdown=True
                )
            )

    async def async_stop(self) -> None:
        """Stop sources, cancel clips in flight (they stay spooled), close all."""
        async with self._apply_lock:  # a camera's change finishes first
            self._stopped = True
            while self._unsubscribe:
                self._unsubscribe.pop()()
            while self._camera_unsubscribe:
                self._camera_unsubscribe.popitem()[1]()
            tasks = [*self._resumes, *([self._recovery] if self._recovery else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._recovery = None
            while self.sources:
                _, source = self.sources.popitem()
                await source.stop()
        await self._engine.close()
        await self._persisted.async_save()

    async def async_retention(self, *, dry_run: bool = False) -> RetentionPlan:
        """Apply the spool limits now (or only list what would go)."""
        engine = self._engine
        plan = await apply_retention(
            engine.spool,
            engine.repository,
            self.retention,
            self._hass.async_add_executor_job,
            dt_util.utcnow(),
            dry_run=dry_run,
            busy=engine.pipeline.is_queued,
        )
        if not dry_run:
            self.last_retention = plan
            if self.retention.max_age is not None:
                oldest = dt_util.utcnow() - self.retention.max_age
                await engine.snapshots.prune(oldest)
            async with self._housekeeping_lock:
                figures = await self.housekeeping.retention(dt_util.utcnow(), plan)
            await self._async_disk_level(figures)
        return plan

    async def async_guard_disks(self) -> StoreFigures:
        """Measure free space, trim what is safe if low, stop or resume recording."""
        async with self._housekeeping_lock:
            figures = await self.housekeeping.guard_disks(dt_util.utcnow())
        await self._async_disk_level(figures)
        return figures

    async def _async_disk_level(self, figures: StoreFigures) -> None:
        """Recording stops below the floor and resumes once space is back."""
        full = figures.level is DiskLevel.FULL
        if full and not self.recording_stopped:
            self.recording_stopped = True
            _LOGGER.error(
                "Free disk space is below %d MB: HomeSec stops recording new clips "
                "until space is back",
                self.housekeeping.guard.floor_bytes // 2**20,
            )
            while self.sources:
                _, source = self.sources.popitem()
                await source.stop()
        elif not full and self.recording_stopped and not self._stopped:
            self.recording_stopped = False
            _LOGGER.warning("Free disk space is back: HomeSec records new clips again")
            await self._async_start_camera_sources()
        self._health.disk_status(figures, self.housekeeping.guard.floor_bytes)

    async def _async_start_camera_sources(self) -> None:
        """Start the source of every enabled camera."""
        for camera in list(self._cameras.values()):  # a camera may come meanwhile
            await self._async_start_source(camera)

    async def _async_start_source(self, camera: CameraSettings) -> None:
        """Start the camera's source, unless the camera is disabled."""
        if not camera.enabled:
            return
        kind = SOURCE_KINDS[camera.source_type]
        source = kind.build(self._hass, camera, self._engine.spool)
        if camera.live_detection:
            source.watch_live(self._engine.live.camera(camera.camera_id))
        self.sources[camera.camera_id] = source
        await source.start(self._engine.pipeline.submit)

    async def async_apply_entry(self, entry: ConfigEntry) -> bool:
        """Apply an update of the entry in place; False when it needs a reload.

        Cameras added, reconfigured or removed apply in place: that camera's
        source, engine rules and entities change, the other cameras keep
        running. A change of the hub's own data or options needs a reload
        (False); an update that changed neither (the hub's title) needs nothing.
        """
        wanted = EntrySnapshot.of(entry)
        if not wanted.only_cameras_differ(self._applied):
            return False
        async with self._apply_lock:
            if self._stopped:
                return True
            try:
                # A camera that sends to a new target: it gets its notifier.
                self._engine.add_notify_targets(
                    notify_keys(self._settings, Cameras(wanted.cameras))
                )
                await self._async_apply_cameras(wanted.cameras)
            except Exception as err:  # noqa: BLE001 - any failure: reload the hub
                _LOGGER.warning(
                    "A camera's change could not be applied (%s); HomeSec reloads",
                    err,
                )
                return False
            self._applied = wanted
        return True

    async def _async_apply_cameras(self, wanted: dict[str, CameraSettings]) -> None:
        """Stop what changed or went, then start what changed or came."""
        current = dict(self._cameras)
        gone = [cid for cid, cam in current.items() if wanted.get(cid) != cam]
        came = [cid for cid, cam in wanted.items() if current.get(cid) != cam]
        for camera_id in gone:
            await self._async_drop_camera(current[camera_id])
            if camera_id not in wanted:
                _LOGGER.info("Camera %s removed", current[camera_id].title)
        for camera_id in came:
            self._cameras.put(wanted[camera_id])
        apply_cameras(self._engine, self._settings, self._cameras)
        for camera_id in came:
            await self._async_add_camera(wanted[camera_id])
            _LOGGER.info(
                "Camera %s %s",
                wanted[camera_id].title,
                "changed" if camera_id in current else "added",
            )

    async def _async_drop_camera(self, camera: CameraSettings) -> None:
        """Stop the camera's source (its clip stays spooled), drop its entities."""
        camera_id = camera.camera_id
        if (source := self.sources.pop(camera_id, None)) is not None:
            await source.stop()
        if (unsubscribe := self._camera_unsubscribe.pop(camera_id, None)) is not None:
            unsubscribe()
        await self.camera_entities.async_remove(camera.subentry_id)
        self._cameras.remove(camera_id)
        self._health.source_replaced(camera_id)

    async def _async_add_camera(self, camera: CameraSettings) -> None:
        """Add the camera's entities, start its source, resume its spooled clips."""
        camera_id = camera.camera_id
        self._camera_unsubscribe[camera_id] = self._clips.async_listen(
            self._entry.entry_id, camera_id
        )
        await self.camera_entities.async_add(camera)
        await self._async_learn_clip_ids([camera_id])
        if not self.recording_stopped:
            await self._async_start_source(camera)
        task = self._entry.async_create_background_task(
            self._hass,
            self._async_requeue(camera_id),
            f"homesec resume {camera_id}",
        )
        self._resumes.add(task)
        task.add_done_callback(self._resumes.discard)

    async def _async_guard_tick(self, _: datetime) -> None:
        await self.async_guard_disks()

    async def _async_retention_tick(self, _: datetime) -> None:
        await self.async_retention()

    async def async_prune_history(self) -> HistoryPrune | None:
        """Delete clip history older than the limit; None if off or unreachable."""
        if self.history_max_age is None:
            return None
        pruned = await async_prune_history(
            self._hass, self._engine, self.history_max_age
        )
        if pruned is not None:
            self.last_history_prune = pruned
        return pruned

    async def _async_prune_tick(self, _: datetime) -> None:
        await self.async_prune_history()

    async def _async_recover(self) -> None:
        """Resume the spool's unfinished clips; the start's retention pass if due."""
        await self._async_requeue(None)
        await self._catch_up.async_store_pending()
        # A reload (saving the options, a camera's change that needs one) is
        # not a reason to trim the stores: the start-time pass runs at Home
        # Assistant's start, at a hub's first setup, and when its limits
        # changed; otherwise the hourly pass does the work.
        limits = (self.retention, self.housekeeping.store_limits, self.history_max_age)
        applied = self._hass.data.setdefault(LIMITS_APPLIED, {})
        if applied.get(self._entry.entry_id) != limits:
            await self.async_retention()
            await self.async_prune_history()
            applied[self._entry.entry_id] = limits

    async def _async_requeue(self, camera_id: str | None) -> None:
        """Re-queue one camera's unfinished spooled clips (None: all), newest first.

        Waits until the store answers: without it, finished and unfinished clips
        cannot be told apart.
        """
        engine = self._engine
        while True:
            mark = engine.pipeline.mark()
            unfinished = await find_unfinished(
                engine.spool, engine.repository, self._hass.async_add_executor_job
            )
            if unfinished is not None:
                break
            await asyncio.sleep(RECOVERY_RETRY_SECONDS)
        await self._async_learn_clip_ids([camera_id] if camera_id else None)
        unfinished = [
            item
            for item in unfinished
            if camera_id is None or item.clip.camera_name == camera_id
        ]
        if unfinished:
            _LOGGER.info("Resuming %s", count(len(unfinished), "unfinished clip"))
        for item in unfinished:  # a clip that ran meanwhile is not run again
            await engine.pipeline.resume(item.clip, item.state, mark)

    async def _async_learn_clip_ids(self, camera_ids: list[str] | None = None) -> None:
        """Teach the spool every clip id the store knows (when it answers).

        An id is then never handed out twice: not to a camera whose clock was
        set back, nor after retention removed a clip in an earlier run.
        """
        repository = self._engine.repository
        for camera_id in list(self._cameras) if camera_ids is None else camera_ids:
            self._engine.spool.remember(await repository.clip_ids(camera_id) or [])

    def _make_folders(self) -> None:
        """Create the spool (required) and the database folder (best effort)."""
        self._engine.spool.root.mkdir(parents=True, exist_ok=True)
        try:
            self._engine.database_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            # The state store will report itself unavailable; clips still flow.
            _LOGGER.debug("Cannot create the database folder: %s", err)
