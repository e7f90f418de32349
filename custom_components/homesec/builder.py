"""The one place that turns typed settings into engine parts and wires them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from .adapters.ai_task import AITaskAnalyzer
from .adapters.alert_text import AlertWording
from .adapters.notify_targets import (
    NotifyContext,
)
from .const import (
    ANALYZER_AI_TASK,
    ANALYZER_OPENAI,
    FRAMES_PATH,
    PENDING_WRITES_PATH,
    SNAPSHOTS_PATH,
    STATE_STORE_POSTGRES,
    STORAGE_DROPBOX,
    STORAGE_LOCAL,
)
from .data import Cameras
from .detector_kinds import async_build_detector, detection_rules
from .engine.analyze.budget import AnalysisBudget, BudgetedAnalyzer, BudgetSettings
from .engine.analyze.frame_selection import FrameSelection
from .engine.analyze.openai import OpenAIAnalyzer, OpenAISettings
from .engine.credentials import (
    DetectorStatus,
    RejectionHandler,
    WatchedAnalyzer,
    WatchedDetector,
    WatchedStorage,
)
from .engine.detect.rules import DetectionRules
from .engine.detect.stationary import StationarySettings, StationaryTracker
from .engine.disk_guard import DiskGuardSettings, Housekeeping, Housekept
from .engine.gates import CameraGate, GatedDetector
from .engine.interfaces import (
    Analyzer,
    BlockingRunner,
    ObjectDetector,
    Storage,
)
from .engine.live import LiveDetection
from .engine.live_budget import LiveSettings
from .engine.pending_journal import PendingJournal
from .engine.pipeline import ClipPipeline, LifecycleListener, PipelineSettings
from .engine.policy import DefaultAlertPolicy, PolicySettings
from .engine.repository import ClipRepository
from .engine.retention import RetentionSettings
from .engine.retry import RetrySettings
from .engine.snapshots import SnapshotKeeper, SnapshotStore
from .engine.spool import Spool
from .engine.state.sqlalchemy_store import SQLAlchemyStateStore, sqlite_url
from .engine.storage.dropbox import DropboxSettings, DropboxStorage
from .engine.storage.local import LocalStorage
from .engine.store_retention import StoreRetentionSettings
from .links import LinkSigner, clip_path, snapshot_path
from .notify_outputs import TargetNotifiers, notify_keys, outputs
from .settings import HubSettings

"""The target of alerts when no notify target is chosen."""


@dataclass(frozen=True, slots=True)
class Engine:
    """The engine parts of one hub."""

    spool: Spool
    snapshots: SnapshotKeeper
    storage: Storage
    """The configured storage (the pipeline's copy reports failed uploads)."""
    repository: ClipRepository
    detector: ObjectDetector
    """The configured detector, as the actions use it (no switch applies)."""
    analyzer: Analyzer | None
    budget: AnalysisBudget
    policy: DefaultAlertPolicy
    stationary: StationaryTracker
    pipeline: ClipPipeline
    live: LiveDetection
    """Live detection of the cameras that record a stream."""
    local_root: Path
    database_path: Path
    notify_keys: set[str]
    """The notify targets the pipeline has a notifier for."""
    targets: TargetNotifiers
    """Builds the notifier of a target a camera starts sending to."""

    def add_notify_targets(self, keys: Iterable[str]) -> None:
        """Give the pipeline a notifier for each target it has none for yet."""
        for key in sorted(set(keys) - self.notify_keys):
            self.pipeline.add_notifier(self.targets.notifier(key))
            self.notify_keys.add(key)

    async def close(self) -> None:
        """Stop clips in flight (they stay spooled) and close every part."""
        await self.pipeline.stop()
        await self.detector.close()
        await self.storage.close()
        await self.repository.close()


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the engine asks of the Home Assistant side while it runs."""

    detection_on: CameraGate
    notifications_on: CameraGate
    on_rejected: RejectionHandler
    on_storage_failure: Callable[[Exception], None]
    on_detector_status: DetectorStatus
    listener: LifecycleListener
    wording: AlertWording
    links: LinkSigner


def storage(settings: HubSettings, config_dir: Path, run: BlockingRunner) -> Storage:
    """Local folder storage by default, Dropbox when configured."""
    if settings.storage_type == STORAGE_DROPBOX:
        return DropboxStorage(
            DropboxSettings(
                root=settings.dropbox_root,
                app_key=settings.dropbox_app_key,
                app_secret=settings.dropbox_app_secret,
                refresh_token=settings.dropbox_refresh_token,
                access_token=settings.dropbox_access_token,
            ),
            run,
        )
    return LocalStorage(settings.storage_folder(config_dir), run)


def state_store(
    settings: HubSettings, config_dir: Path, run: BlockingRunner
) -> SQLAlchemyStateStore:
    """SQLite by default, Postgres when a DSN is configured."""
    if settings.state_store == STATE_STORE_POSTGRES:
        dsn = str(settings.postgres_dsn or "")
        if dsn.startswith(("postgresql://", "postgres://")):
            dsn = "postgresql+asyncpg://" + dsn.split("://", 1)[1]
        return SQLAlchemyStateStore(dsn, run)
    return SQLAlchemyStateStore(sqlite_url(settings.sqlite_file(config_dir)), run)


def retention(settings: HubSettings) -> RetentionSettings:
    """Spool limits of the hub (0 disables a limit)."""
    max_gb, max_days = settings.retention_max_gb, settings.retention_max_days
    return RetentionSettings(
        max_bytes=int(max_gb * 1024**3) if max_gb > 0 else None,
        max_age=timedelta(days=max_days) if max_days > 0 else None,
    )


def store_retention(settings: HubSettings) -> StoreRetentionSettings | None:
    """Limits of the clip store (0 disables a limit); None: Dropbox, not trimmed."""
    if settings.storage_type == STORAGE_DROPBOX and not settings.dropbox_retention:
        return None
    max_gb, max_days = settings.store_max_gb, settings.store_max_days
    alert_days = settings.store_alert_days
    return StoreRetentionSettings(
        max_bytes=int(max_gb * 1024**3) if max_gb > 0 else None,
        max_age=timedelta(days=max_days) if max_days > 0 else None,
        alerted_max_age=timedelta(days=alert_days) if alert_days > 0 else None,
    )


def disk_guard(settings: HubSettings) -> DiskGuardSettings:
    """Free space thresholds of the hub (the floor never above the threshold)."""
    low = int(settings.disk_low_gb * 1024**3)
    return DiskGuardSettings(
        low_bytes=low, floor_bytes=min(low, int(settings.disk_floor_gb * 1024**3))
    )


def housekeeping(
    hass: HomeAssistant, settings: HubSettings, engine: Engine
) -> Housekeeping:
    """Retention of the clip store and the free disk guard of the hub."""
    local = settings.storage_type == STORAGE_LOCAL
    return Housekeeping(
        Housekept(
            spool=engine.spool,
            storage=engine.storage,
            repository=engine.repository,
            local_root=engine.local_root if local else None,
            run_blocking=hass.async_add_executor_job,
            busy=engine.pipeline.is_queued,
        ),
        store_retention(settings),
        disk_guard(settings),
    )


def policy(settings: HubSettings, cameras: Cameras) -> DefaultAlertPolicy:
    """The hub's alert rules, with each camera's overrides."""
    return DefaultAlertPolicy(
        PolicySettings(
            trigger_classes=frozenset(settings.trigger_classes),
            cooldown=settings.cooldown,
            min_risk_level=settings.min_risk_level,
            notify_on_activity_types=frozenset(settings.notify_on_activity_types),
            notify_on_motion=settings.notify_on_motion,
        ),
        {camera.camera_id: camera.policy_overrides() for camera in cameras.values()},
    )


def apply_cameras(engine: Engine, settings: HubSettings, cameras: Cameras) -> None:
    """Swap in the engine parts built from the cameras, after one changed.

    Titles, notify targets and the analyzer's camera context read the shared
    ``cameras`` when used; the parts that copy camera settings when built are
    rebuilt here, so a camera's change reaches the engine without reloading the
    hub (unless it sends to a notify target the hub has no notifier for: see
    ``notify_keys``).
    """
    engine.policy.use_rules(policy(settings, cameras))
    engine.pipeline.camera_rules.replace(camera_rules(settings, cameras))


def camera_rules(settings: HubSettings, cameras: Cameras) -> dict[str, DetectionRules]:
    """Each camera's detection rules: its own settings over the hub's."""
    hub_rules = detection_rules(settings)
    return {
        camera.camera_id: camera.detection_rules(hub_rules)
        for camera in cameras.values()
    }


def pipeline_settings(settings: HubSettings, cameras: Cameras) -> PipelineSettings:
    """Retry attempts of the hub and each camera's detection rules."""
    retry = RetrySettings(max_attempts=settings.max_attempts)
    return PipelineSettings(
        upload_retry=retry,
        analyze_retry=retry,
        notify_retry=retry,
        camera_rules=camera_rules(settings, cameras),
    )


def budget_settings(settings: HubSettings) -> BudgetSettings:
    """Daily budgets of the hub (0 disables a budget)."""
    return BudgetSettings(
        daily_calls=settings.daily_calls or None,
        daily_tokens=settings.daily_tokens or None,
    )


def stationary(settings: HubSettings, cameras: Cameras) -> StationaryTracker:
    """Which objects stood still since a camera's earlier clip (0 minutes: off)."""
    minutes = settings.stationary_forget_minutes
    rules = StationarySettings(
        enabled=minutes > 0, forget_after=timedelta(minutes=minutes)
    )
    return StationaryTracker(rules, cameras)


def analyzer(
    hass: HomeAssistant, settings: HubSettings, cameras: Cameras, budget: AnalysisBudget
) -> Analyzer | None:
    """The configured analyzer behind the budget, or None."""
    frames = FrameSelection(max_frames=settings.max_frames)
    activities = tuple(settings.activities)
    inner: Analyzer
    if settings.analyzer == ANALYZER_OPENAI:
        inner = OpenAIAnalyzer(
            OpenAISettings(
                base_url=settings.openai_base_url,
                api_key=settings.openai_api_key,
                model=settings.openai_model,
                token_parameter=settings.token_parameter,
                timeout=settings.analysis_timeout,
                activity_types=activities,
                base_prompt=settings.base_prompt,
                frames=frames,
            ),
            async_get_clientsession(hass),
            hass.async_add_executor_job,
            cameras.context,
        )
    elif settings.analyzer == ANALYZER_AI_TASK:
        inner = AITaskAnalyzer(
            hass,
            str(settings.ai_task_entity),
            Path(hass.config.path(FRAMES_PATH)),
            cameras.context,
            frames=frames,
            activity_types=activities,
            base_prompt=settings.base_prompt,
        )
    else:
        return None
    return BudgetedAnalyzer(inner, budget)


async def async_build_engine(
    hass: HomeAssistant,
    entry_id: str,
    settings: HubSettings,
    cameras: Cameras,
    wiring: Wiring,
) -> Engine:
    """Every engine part of the hub, wired; nothing runs yet."""
    run = hass.async_add_executor_job
    config_dir = Path(hass.config.config_dir)
    detector = await async_build_detector(hass, entry_id, settings)
    budget = AnalysisBudget(budget_settings(settings), lambda: dt_util.now().date())
    built = analyzer(hass, settings, cameras, budget)
    watched = WatchedAnalyzer(built, wiring.on_rejected) if built else None
    store = storage(settings, config_dir, run)
    repository = ClipRepository(
        state_store(settings, config_dir, run),
        journal=PendingJournal(config_dir / PENDING_WRITES_PATH, run),
    )
    snapshots = SnapshotKeeper(SnapshotStore(config_dir / SNAPSHOTS_PATH), run)
    rules = policy(settings, cameras)
    tracker = stationary(settings, cameras)
    targets = TargetNotifiers(
        settings,
        cameras,
        NotifyContext(hass, cameras.title, wiring.wording, wiring.links),
        wiring.notifications_on,
    )
    pipeline = ClipPipeline(
        storage=WatchedStorage(store, wiring.on_storage_failure),
        detector=GatedDetector(
            WatchedDetector(detector, wiring.on_rejected, wiring.on_detector_status),
            wiring.detection_on,
        ),
        analyzer=watched,
        policy=rules,
        notifiers=outputs(hass, settings, cameras, targets),
        repository=repository,
        snapshots=snapshots,
        listener=wiring.listener,
        settings=pipeline_settings(settings, cameras),
        clip_links=lambda clip: (snapshot_path(clip.clip_id), clip_path(clip.clip_id)),
        reason_wording=wiring.wording.reason,
        stationary=tracker,
    )
    return Engine(
        spool=Spool(settings.spool_folder(config_dir)),
        snapshots=snapshots,
        storage=store,
        repository=repository,
        detector=detector,
        analyzer=watched,
        budget=budget,
        policy=rules,
        stationary=tracker,
        pipeline=pipeline,
        live=LiveDetection(
            detector,
            sink=pipeline.live,
            rules_for=pipeline.rules_for,
            run_blocking=run,
            enabled=wiring.detection_on,
            settings=LiveSettings(
                camera_fps=settings.live_fps, total_fps=settings.live_total_fps
            ),
        ),
        local_root=settings.storage_folder(config_dir),
        database_path=settings.sqlite_file(config_dir),
        notify_keys=set(notify_keys(settings, cameras)),
        targets=targets,
    )
