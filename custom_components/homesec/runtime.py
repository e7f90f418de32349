"""HomeSecRuntime: builds the engine from a config entry and runs it."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from . import factory
from .adapters.event_bus import BusAlertNotifier, fire_detection
from .adapters.mqtt_alerts import MqttAlertNotifier
from .adapters.notify_targets import NotifyEntityNotifier, NotifyServiceNotifier
from .adapters.persistent_notification import PersistentNotificationNotifier
from .const import (
    CONF_CAMERA_ID,
    CONF_ENABLED,
    CONF_MIN_RISK_LEVEL,
    CONF_MIN_RISK_OVERRIDE,
    CONF_MQTT_QOS,
    CONF_MQTT_RETAIN,
    CONF_MQTT_TOPIC,
    CONF_NOTIFY_ENTITIES,
    CONF_NOTIFY_ON_ACTIVITY_TYPES,
    CONF_NOTIFY_ON_MOTION,
    CONF_NOTIFY_SERVICES,
    CONF_PROMPT_CONTEXT,
    CONF_QUIET_END,
    CONF_QUIET_START,
    CONF_SOURCE_TYPE,
    DEFAULT_MQTT_QOS,
    DEFAULT_MQTT_TOPIC,
    DOMAIN,
    ISSUE_SOURCE_FAILING,
    ISSUE_STATE_STORE_UNREACHABLE,
    RECOVERY_RETRY_SECONDS,
    RETENTION_INTERVAL_MINUTES,
    RISK_DEFAULT,
    SNAPSHOTS_PATH,
    SNOOZE_ACTION_PREFIX,
    SNOOZE_MINUTES,
    SOURCE_FAILING_REPAIR_AFTER,
    SOURCE_HEALTH_SECONDS,
    SPOOL_PATH,
    STATE_STORE_REPAIR_AFTER,
    STORAGE_PING_MINUTES,
    SUBENTRY_CAMERA,
    camera_signal,
    health_signal,
)
from .engine.analyze.budget import AnalysisBudget
from .engine.credentials import WatchedAnalyzer, WatchedDetector
from .engine.errors import CredentialsRejected
from .engine.gates import GatedDetector, GatedNotifier
from .engine.interfaces import ClipSource, Notifier, ObjectDetector
from .engine.models import (
    Clip,
    ClipAlerted,
    ClipDetected,
    ClipFinished,
    ClipQueued,
    LifecycleEvent,
    RiskLevel,
)
from .engine.pipeline import ClipPipeline
from .engine.policy import DefaultAlertPolicy, PolicyOverrides, PolicySettings
from .engine.recovery import find_unfinished
from .engine.repository import ClipRepository
from .engine.retention import RetentionPlan, apply_retention
from .engine.snapshots import SnapshotStore
from .engine.spool import Spool
from .links import clip_path, snapshot_path
from .quick_notifications import QuickNotifications
from .source_setup import build_source

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigSubentry

_LOGGER = logging.getLogger(__name__)
RECENT_SNAPSHOTS = 50


def hub_settings(entry: ConfigEntry[Any]) -> dict[str, Any]:
    """The hub's settings: its data, with the options flow's changes on top."""
    return {**entry.data, **entry.options}


class HealthStatus(StrEnum):
    """Overall state of the hub."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class Health:
    """The hub's status and the checks it is made of."""

    status: HealthStatus
    checks: dict[str, bool]


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """One camera, from its config subentry."""

    subentry_id: str
    camera_id: str
    title: str
    source_type: str
    data: dict[str, Any]

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> CameraConfig:
        """Read a camera subentry."""
        return cls(
            subentry_id=subentry.subentry_id,
            camera_id=subentry.data[CONF_CAMERA_ID],
            title=subentry.title,
            source_type=subentry.data[CONF_SOURCE_TYPE],
            data=dict(subentry.data),
        )


def in_quiet_hours(data: Mapping[str, Any], now: time) -> bool:
    """Whether ``now`` is within the camera's quiet hours (they may span midnight)."""
    start, end = data.get(CONF_QUIET_START), data.get(CONF_QUIET_END)
    if not start or not end:
        return False
    begin, finish = time.fromisoformat(start), time.fromisoformat(end)
    if begin <= finish:
        return begin <= now < finish
    return now >= begin or now < finish


def _file_inside(path: Path, roots: list[Path]) -> Path | None:
    """``path`` if it is a file inside one of ``roots`` (blocking)."""
    resolved = path.resolve()
    inside = any(resolved.is_relative_to(root.resolve()) for root in roots)
    return resolved if inside and resolved.is_file() else None


def _risk_override(data: dict[str, Any]) -> RiskLevel | None:
    value = data.get(CONF_MIN_RISK_OVERRIDE, RISK_DEFAULT)
    return None if value in (None, RISK_DEFAULT) else RiskLevel(value)


class HomeSecRuntime:
    """The engine of one hub, started and stopped with its config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[HomeSecRuntime],
        detector: ObjectDetector,
    ) -> None:
        """Read the entry; nothing starts until ``async_start``."""
        self.hass = hass
        self.entry = entry
        self.cameras: dict[str, CameraConfig] = {
            camera.camera_id: camera
            for camera in (
                CameraConfig.from_subentry(subentry)
                for subentry in entry.subentries.values()
                if subentry.subentry_type == SUBENTRY_CAMERA
            )
        }
        data = hub_settings(entry)
        run = hass.async_add_executor_job
        self.spool = Spool(Path(hass.config.path(SPOOL_PATH)))
        self.snapshots = SnapshotStore(Path(hass.config.path(SNAPSHOTS_PATH)))
        self._recent_snapshots: OrderedDict[str, bytes] = OrderedDict()
        self.local_root = factory.local_storage_root(data, hass.config.path)
        self.database_path = factory.sqlite_path(data, hass.config.path)
        self.storage = factory.storage(data, hass.config.path, run)
        self.detector = detector
        self.repository = ClipRepository(
            factory.state_store(data, hass.config.path, run)
        )
        self.retention = factory.retention_settings(data)
        self.budget = AnalysisBudget(
            factory.budget_settings(data), lambda: dt_util.now().date()
        )
        self.last_retention: RetentionPlan | None = None
        self.storage_reachable = True
        self.detection_off: set[str] = set()
        self.notifications_off: set[str] = set()
        self.snoozed_until: dict[str, datetime] = {}
        pipeline_settings = factory.pipeline_settings(data)
        phones = [
            NotifyServiceNotifier(hass, service, self.camera_title)
            for service in data.get(CONF_NOTIFY_SERVICES) or []
        ]
        self.quick = QuickNotifications(
            hass,
            entry,
            phones,
            pipeline_settings.trigger_classes,
            self.notifications_on,
        )
        self.last_clips: dict[str, Clip] = {}
        """The newest clip each camera handed to the pipeline since start."""
        self.rejected: set[str] = set()
        """Services that refused the stored credentials (reauth is pending)."""
        self._source_health: dict[str, bool] = {}
        self._failing_since: dict[str, datetime] = {}
        self.activity_types = factory.activity_types(data)
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._recovery: asyncio.Task[None] | None = None
        self.policy = DefaultAlertPolicy(
            PolicySettings(
                min_risk_level=RiskLevel(data.get(CONF_MIN_RISK_LEVEL, "high")),
                notify_on_activity_types=frozenset(
                    data.get(CONF_NOTIFY_ON_ACTIVITY_TYPES, [])
                ),
                notify_on_motion=data.get(CONF_NOTIFY_ON_MOTION, False),
            ),
            {
                camera.camera_id: PolicyOverrides(
                    notify_on_motion=camera.data.get(CONF_NOTIFY_ON_MOTION),
                    min_risk_level=_risk_override(camera.data),
                )
                for camera in self.cameras.values()
            },
        )
        analyzer = factory.analyzer(
            hass, data, self.camera_context, self.budget, dt_util.utcnow
        )
        self.analyzer = (
            WatchedAnalyzer(analyzer, self.credentials_rejected) if analyzer else None
        )
        self.pipeline = ClipPipeline(
            storage=self.storage,
            detector=GatedDetector(
                WatchedDetector(detector, self.credentials_rejected),
                self.detection_on,
            ),
            analyzer=self.analyzer,
            policy=self.policy,
            notifiers=[
                BusAlertNotifier(hass),
                MqttAlertNotifier(
                    hass,
                    str(data.get(CONF_MQTT_TOPIC) or DEFAULT_MQTT_TOPIC),
                    int(data.get(CONF_MQTT_QOS, DEFAULT_MQTT_QOS)),
                    bool(data.get(CONF_MQTT_RETAIN, False)),
                ),
                *(
                    GatedNotifier(notifier, self.notifications_on)
                    for notifier in self._user_notifiers(data, phones)
                ),
            ],
            repository=self.repository,
            listener=self._on_lifecycle,
            settings=pipeline_settings,
            clip_links=lambda clip: (
                snapshot_path(clip.clip_id),
                clip_path(clip.clip_id),
            ),
        )
        self.sources: dict[str, ClipSource] = {}

    def _user_notifiers(
        self, data: dict[str, Any], phones: list[NotifyServiceNotifier]
    ) -> list[Notifier]:
        """One per chosen notify target, or persistent notifications without any.

        Each target is a notifier of its own: one that fails is retried alone
        and never delays or repeats the others.
        """
        notifiers: list[Notifier] = [
            NotifyEntityNotifier(self.hass, entity_id, self.camera_title)
            for entity_id in data.get(CONF_NOTIFY_ENTITIES) or []
        ]
        notifiers += phones
        return notifiers or [
            PersistentNotificationNotifier(self.hass, self.camera_title)
        ]

    def detection_on(self, camera_id: str) -> bool:
        """Whether the camera's detection switch is on."""
        return camera_id not in self.detection_off

    def notifications_on(self, camera_id: str) -> bool:
        """Whether notifications go out: switch on, not snoozed, not quiet hours."""
        if camera_id in self.notifications_off:
            return False
        now = dt_util.now()
        until = self.snoozed_until.get(camera_id)
        if until is not None and now < until:
            return False
        camera = self.cameras.get(camera_id)
        return camera is None or not in_quiet_hours(camera.data, now.time())

    @callback
    def snooze(self, camera_id: str, minutes: float = SNOOZE_MINUTES) -> None:
        """Hold back the camera's notifications for ``minutes``."""
        self.snoozed_until[camera_id] = dt_util.now() + timedelta(minutes=minutes)
        _LOGGER.info("Notifications of %s snoozed for %g min", camera_id, minutes)

    @callback
    def _on_notification_action(self, event: Event) -> None:
        """A tap on a notification's Snooze action."""
        action = str(event.data.get("action", ""))
        camera_id = action.removeprefix(SNOOZE_ACTION_PREFIX)
        if action.startswith(SNOOZE_ACTION_PREFIX) and camera_id in self.cameras:
            self.snooze(camera_id)

    def camera_context(self, camera_id: str) -> tuple[str, str | None]:
        """A camera's display name and its prompt context."""
        camera = self.cameras.get(camera_id)
        context = camera.data.get(CONF_PROMPT_CONTEXT) if camera else None
        return self.camera_title(camera_id), context or None

    def camera_title(self, camera_id: str) -> str:
        """The display name of a camera."""
        camera = self.cameras.get(camera_id)
        return camera.title if camera else camera_id

    async def async_start(self) -> None:
        """Prepare folders and the state store (the store may be down)."""
        await self.hass.async_add_executor_job(self._make_folders)
        await self.repository.start()

    async def async_start_sources(self) -> None:
        """Start sources (after entities subscribed), recovery and retention."""
        for camera in self.cameras.values():
            if not camera.data.get(CONF_ENABLED, True):
                continue
            source = build_source(
                self.hass, camera.camera_id, camera.source_type, camera.data, self.spool
            )
            self.sources[camera.camera_id] = source
            await source.start(self.pipeline.submit)
        self._recovery = self.entry.async_create_background_task(
            self.hass, self._async_recover(), "homesec recovery"
        )
        self._unsubscribe.append(
            self.hass.bus.async_listen(
                "mobile_app_notification_action", self._on_notification_action
            )
        )
        await self._async_ping_storage()
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass,
                self.check_health,
                timedelta(seconds=SOURCE_HEALTH_SECONDS),
                cancel_on_shutdown=True,
            )
        )
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass,
                self._async_ping_storage,
                timedelta(minutes=STORAGE_PING_MINUTES),
                cancel_on_shutdown=True,
            )
        )
        self._unsubscribe.append(
            async_track_time_interval(
                self.hass,
                self._async_retention_tick,
                timedelta(minutes=RETENTION_INTERVAL_MINUTES),
                cancel_on_shutdown=True,
            )
        )

    async def async_stop(self) -> None:
        """Stop sources, cancel clips in flight (they stay spooled), close all."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        if self._recovery is not None:
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
            self._recovery = None
        while self.sources:
            _, source = self.sources.popitem()
            await source.stop()
        await self.pipeline.stop()
        await self.detector.close()
        await self.storage.close()
        await self.repository.close()

    async def async_last_clip(self, camera_id: str) -> Clip | None:
        """The camera's newest clip still in the spool, or None."""
        clip = self.last_clips.get(camera_id)
        run = self.hass.async_add_executor_job
        if clip is not None and await run(clip.local_path.is_file):
            return clip
        entry = await run(self.spool.newest, camera_id)
        if entry is None:
            return None
        camera = self.cameras.get(camera_id)
        return Clip(
            clip_id=entry.clip_id,
            camera_name=camera_id,
            local_path=entry.path,
            start_ts=entry.mtime,
            source_type=camera.source_type if camera else "spool",
        )

    async def async_analyze_last_clip(self, camera_id: str) -> Clip:
        """Run the camera's newest clip through the pipeline again."""
        clip = await self.async_last_clip(camera_id)
        if clip is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="no_clip",
                translation_placeholders={"camera": self.camera_title(camera_id)},
            )
        return await self._resubmit(clip)

    async def _resubmit(self, clip: Clip) -> Clip:
        """Queue a clip again from its first stage, unless it is in flight."""
        if self.pipeline.is_queued(clip.clip_id):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="clip_busy",
                translation_placeholders={"clip": clip.clip_id},
            )
        await self.pipeline.submit(clip)
        return clip

    async def async_reprocess(self, clip_id: str) -> Clip:
        """Run a clip still in the spool through the whole pipeline again."""
        state = await self.repository.get(clip_id)
        path = Path(state.local_path) if state else None
        if state is None or path is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_clip",
                translation_placeholders={"clip": clip_id},
            )
        if not await self.hass.async_add_executor_job(path.is_file):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="clip_not_in_spool",
                translation_placeholders={"clip": clip_id},
            )
        clip = Clip(
            clip_id=clip_id,
            camera_name=state.camera_name,
            local_path=path,
            start_ts=state.start_ts or dt_util.utcnow(),
            source_type=state.source_type or "spool",
        )
        return await self._resubmit(clip)

    @callback
    def record_now(self, camera_id: str, seconds: float | None = None) -> None:
        """Start recording the camera now (cameras with a stream only)."""
        source = self.sources.get(camera_id)
        if source is None or not source.can_record:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="cannot_record",
                translation_placeholders={"camera": self.camera_title(camera_id)},
            )
        source.record(seconds)

    async def async_snapshot(self, clip_id: str) -> bytes | None:
        """A clip's annotated snapshot (recent ones from memory), or None."""
        if clip_id in self._recent_snapshots:
            return self._recent_snapshots[clip_id]
        return await self.hass.async_add_executor_job(self.snapshots.read, clip_id)

    async def async_clip_location(self, clip_id: str) -> Path | str | None:
        """A clip's local file (spool or local storage), its web page, or None."""
        state = await self.repository.get(clip_id)
        if state is None:
            return None
        candidates = [Path(state.local_path)]
        if state.storage_uri and state.storage_uri.startswith("local:"):
            candidates.append(self.local_root / state.storage_uri.split(":", 1)[1])
        roots = [self.spool.root, self.local_root]
        for candidate in candidates:
            found = await self.hass.async_add_executor_job(
                _file_inside, candidate, roots
            )
            if found is not None:
                return found
        if state.storage_uri and state.storage_uri.startswith("dropbox:"):
            return state.view_url
        return None

    @callback
    def _keep_snapshot(self, clip_id: str, jpeg: bytes) -> None:
        """Keep a new snapshot in memory at once and on disk soon after."""
        self._recent_snapshots[clip_id] = jpeg
        while len(self._recent_snapshots) > RECENT_SNAPSHOTS:
            self._recent_snapshots.popitem(last=False)
        self.entry.async_create_background_task(
            self.hass, self._async_save_snapshot(clip_id, jpeg), "homesec snapshot"
        )

    async def _async_save_snapshot(self, clip_id: str, jpeg: bytes) -> None:
        try:
            await self.hass.async_add_executor_job(self.snapshots.save, clip_id, jpeg)
        except OSError as err:
            _LOGGER.warning("Cannot keep the snapshot of %s: %s", clip_id, err)

    def health(self) -> Health:
        """Healthy, degraded (store or a source failing) or unhealthy."""
        sources = {cid: src.healthy for cid, src in self.sources.items()}
        checks = {"state_store": self.repository.healthy, **sources}
        if sources and not any(sources.values()):
            status = HealthStatus.UNHEALTHY
        elif all(checks.values()):
            status = HealthStatus.HEALTHY
        else:
            status = HealthStatus.DEGRADED
        return Health(status=status, checks=checks)

    async def async_retention(self, *, dry_run: bool = False) -> RetentionPlan:
        """Apply the spool limits now (or only list what would go)."""
        plan = await apply_retention(
            self.spool,
            self.repository,
            self.retention,
            self.hass.async_add_executor_job,
            dt_util.utcnow(),
            dry_run=dry_run,
            busy=self.pipeline.is_queued,
        )
        if not dry_run:
            self.last_retention = plan
            if self.retention.max_age is not None:
                await self.hass.async_add_executor_job(
                    self.snapshots.prune, dt_util.utcnow() - self.retention.max_age
                )
        return plan

    def source_healthy(self, camera_id: str) -> bool:
        """Whether the camera's source works (True before it started)."""
        return self._source_health.get(camera_id, True)

    @callback
    def check_health(self, now: datetime) -> None:
        """Tell entities when a source's health changed; raise long outages.

        Runs every SOURCE_HEALTH_SECONDS with the current time.
        """
        for camera_id, source in self.sources.items():
            healthy = source.healthy
            if self._source_health.get(camera_id, True) != healthy:
                self._source_health[camera_id] = healthy
                async_dispatcher_send(
                    self.hass, health_signal(self.entry.entry_id, camera_id)
                )
            self._repair(
                f"{ISSUE_SOURCE_FAILING}_{camera_id}",
                failing=not healthy,
                now=now,
                after=SOURCE_FAILING_REPAIR_AFTER,
                translation_key=ISSUE_SOURCE_FAILING,
                placeholders={
                    "camera": self.camera_title(camera_id),
                    "problem": source.problem or "unknown",
                },
            )
        if self.repository.credentials_rejected:
            self.credentials_rejected(
                CredentialsRejected("postgres", "Postgres refused the credentials")
            )
        self._repair(
            f"{ISSUE_STATE_STORE_UNREACHABLE}_{self.entry.entry_id}",
            failing=not self.repository.healthy,
            now=now,
            after=STATE_STORE_REPAIR_AFTER,
            translation_key=ISSUE_STATE_STORE_UNREACHABLE,
            placeholders={"error": self.repository.last_error or "unknown"},
        )

    @callback
    def _repair(
        self,
        issue_id: str,
        *,
        failing: bool,
        now: datetime,
        after: float,
        translation_key: str,
        placeholders: dict[str, str],
    ) -> None:
        """Raise a repair issue once something has failed for ``after`` s."""
        if not failing:
            if self._failing_since.pop(issue_id, None) is not None:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        since = self._failing_since.setdefault(issue_id, now)
        if (now - since).total_seconds() >= after:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=translation_key,
                translation_placeholders=placeholders,
            )

    @callback
    def credentials_rejected(self, err: CredentialsRejected) -> None:
        """Ask the user for new credentials (once per service until reloaded)."""
        if err.service in self.rejected:
            return
        self.rejected.add(err.service)
        _LOGGER.warning(
            "Credentials refused (%s: %s); enter new ones where HomeSec asks "
            "in Settings > Devices & services",
            err.service,
            err,
        )
        self.entry.async_start_reauth(self.hass)

    async def _async_ping_storage(self, _: datetime | None = None) -> None:
        """Check that the storage answers (for the hub's connectivity sensor)."""
        try:
            self.storage_reachable = await self.storage.ping()
        except CredentialsRejected as err:
            self.storage_reachable = False
            self.credentials_rejected(err)
        except Exception:  # noqa: BLE001 - unreachable whatever the cause
            self.storage_reachable = False

    async def _async_retention_tick(self, _: datetime) -> None:
        await self.async_retention()

    async def _async_recover(self) -> None:
        """Re-queue unfinished spooled clips, newest first, once the store answers."""
        while True:
            unfinished = await find_unfinished(
                self.spool, self.repository, self.hass.async_add_executor_job
            )
            if unfinished is not None:
                break
            await asyncio.sleep(RECOVERY_RETRY_SECONDS)
        if unfinished:
            _LOGGER.info("Resuming %d unfinished clips", len(unfinished))
        for item in unfinished:
            await self.pipeline.submit(item.clip, item.state)
        await self.async_retention()

    def _make_folders(self) -> None:
        """Create the spool (required) and the database folder (best effort)."""
        self.spool.root.mkdir(parents=True, exist_ok=True)
        try:
            self.database_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            # The state store will report itself unavailable; clips still flow.
            _LOGGER.debug("Cannot create the database folder: %s", err)

    @callback
    def _on_lifecycle(self, event: LifecycleEvent) -> None:
        if isinstance(event, ClipQueued):
            self.last_clips[event.clip.camera_name] = event.clip
        elif isinstance(event, ClipDetected):
            if event.result.snapshot_jpeg:
                self._keep_snapshot(event.clip.clip_id, event.result.snapshot_jpeg)
            fire_detection(self.hass, event.clip, event.result)
            self.quick.detected(event.clip, event.result)
        elif isinstance(event, ClipAlerted):
            self.budget.alerted(event.clip.camera_name, dt_util.utcnow())
            self.quick.alerted(event.clip.clip_id)
        elif isinstance(event, ClipFinished):
            self.quick.finished(event.clip.clip_id)
        async_dispatcher_send(
            self.hass,
            camera_signal(self.entry.entry_id, event.clip.camera_name),
            event,
        )
