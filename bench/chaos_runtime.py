"""The hub's engine and runtime, built and driven as Home Assistant drives them.

``builder.py``, ``runtime.py``, ``catch_up.py`` and ``hub_health.py`` import
Home Assistant; this module repeats their wiring and their timers with the
engine's own parts only (same classes, same order, intervals scaled from
minutes to fractions of a second), so the bench exercises the real engine
without loading Home Assistant. Where the runtime changes, change this too.
One difference: a timer here waits for its action to end before the next
interval starts (Home Assistant starts each run on its own). The bench's
driver stands for the sources: while ``recording_stopped`` (the disk guard's
floor), it refuses arrivals as the stopped sources would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp

from custom_components.homesec.engine.analyze.budget import (
    AnalysisBudget,
    BudgetedAnalyzer,
    BudgetSettings,
)
from custom_components.homesec.engine.analyze.frame_selection import FrameSelection
from custom_components.homesec.engine.analyze.openai import (
    OpenAIAnalyzer,
    OpenAISettings,
)
from custom_components.homesec.engine.credentials import (
    WatchedAnalyzer,
    WatchedDetector,
    WatchedStorage,
)
from custom_components.homesec.engine.detect.remote import (
    RemoteDetector,
    RemoteSettings,
)
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.disk_guard import (
    DiskGuardSettings,
    DiskLevel,
    FreeSpace,
    Housekeeping,
    Housekept,
    StoreFigures,
)
from custom_components.homesec.engine.errors import (
    CredentialsRejected,
    DetectorUnavailable,
)
from custom_components.homesec.engine.gates import GatedDetector, GatedNotifier
from custom_components.homesec.engine.interfaces import (
    BlockingRunner,
    Notifier,
    Storage,
)
from custom_components.homesec.engine.models import LifecycleEvent, RiskLevel
from custom_components.homesec.engine.pending_journal import PendingJournal
from custom_components.homesec.engine.pipeline import ClipPipeline, PipelineSettings
from custom_components.homesec.engine.policy import DefaultAlertPolicy, PolicySettings
from custom_components.homesec.engine.recovery import (
    find_unfinished,
    find_unstored,
    find_waiting,
)
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.retention import (
    RetentionPlan,
    RetentionSettings,
    apply_retention,
)
from custom_components.homesec.engine.retry import RetrySettings
from custom_components.homesec.engine.snapshots import SnapshotKeeper, SnapshotStore
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
)
from custom_components.homesec.engine.storage.local import LocalStorage
from custom_components.homesec.engine.store_retention import StoreRetentionSettings


async def run_blocking[T](target: Callable[..., T], *args: object) -> T:
    """Home Assistant's executor: blocking work in a worker thread."""
    return await asyncio.to_thread(target, *args)


@dataclass(frozen=True, slots=True)
class Timing:
    """The runtime's intervals, scaled down (seconds)."""

    storage_ping: float = 0.5  # STORAGE_PING_MINUTES
    store_tick: float = 1.5  # STORE_RETRY_MINUTES
    detector_probe: float = 0.7  # DETECTOR_PROBE_MINUTES
    retention: float = 0.5  # RETENTION_INTERVAL_MINUTES
    disk_check: float = 0.2  # DISK_CHECK_MINUTES (1/12 of retention's: 0.04 s)
    recovery_retry: float = 0.3  # RECOVERY_RETRY_SECONDS
    repository_retry: float = 0.3  # ClipRepository retry_interval


@dataclass(frozen=True, slots=True)
class HubConfig:
    """Where the hub keeps things and which servers it talks to."""

    spool_root: Path
    store_root: Path
    snapshots_root: Path
    database_url: str
    detector_url: str
    model_url: str
    webhook_url: str
    retention: RetentionSettings
    guard: DiskGuardSettings
    store_limits: StoreRetentionSettings | None = None
    """The clip store's retention (None: only measured, as Dropbox by default)."""
    free_space: FreeSpace | None = None
    """The disk guard's seam (None: the real disk)."""
    on_level: Callable[[DiskLevel], None] | None = None
    """Told each disk level a guard pass finds."""
    timing: Timing = Timing()
    storage: Callable[[BlockingRunner], Storage] | None = None
    """Builds the storage (Dropbox); the local folder ``store_root`` if None."""


class Health:
    """What hub_health.HubHealth tracks for catching up: storage and detector."""

    def __init__(self, ping: Callable[[], Awaitable[bool]]) -> None:
        """Ask ``ping`` whether the storage answers."""
        self._ping = ping
        self.storage_reachable = True
        self._detector_down: DetectorUnavailable | None = None
        self._detector_back: list[Callable[[], None]] = []

    @property
    def detector_available(self) -> bool:
        """Whether the detector answered last."""
        return self._detector_down is None

    def on_detector_back(self, action: Callable[[], None]) -> None:
        """Run ``action`` each time the detector answers again."""
        self._detector_back.append(action)

    def detector_status(self, down: DetectorUnavailable | None) -> None:
        """As HubHealth.detector_status."""
        if (down is None) == (self._detector_down is None):
            self._detector_down = down or self._detector_down
            return
        self._detector_down = down
        if down is None:
            for action in self._detector_back:
                action()

    def storage_failed(self, _: Exception) -> None:
        """As HubHealth.storage_failed."""
        self.storage_reachable = False

    async def async_ping_storage(self) -> bool:
        """As HubHealth.async_ping_storage: True when it just came back."""
        try:
            reachable = await self._ping()
        except Exception:  # noqa: BLE001 - unreachable whatever the cause
            reachable = False
        came_back = reachable and not self.storage_reachable
        self.storage_reachable = reachable
        return came_back


def _rejected(err: CredentialsRejected) -> None:
    """No credential is ever refused in the bench."""


class BenchHub:
    """One hub's engine and runtime (builder + runtime + catch-up + health)."""

    def __init__(
        self,
        config: HubConfig,
        session: aiohttp.ClientSession,
        notifiers: list[Notifier],
        listener: Callable[[LifecycleEvent], None],
    ) -> None:
        """Build every engine part as builder.async_build_engine does."""
        self.config = config
        run = run_blocking
        fast = RetrySettings(max_attempts=3, initial_delay=0.05, max_delay=0.2)
        self.spool = Spool(config.spool_root)
        self.storage = (
            config.storage(run)
            if config.storage is not None
            else LocalStorage(config.store_root, run)
        )
        self.health = Health(self.storage.ping)
        self.repository = ClipRepository(
            SQLAlchemyStateStore(config.database_url, run),
            retry_interval=config.timing.repository_retry,
            journal=PendingJournal(
                config.spool_root.parent / "pending_history.json", run
            ),
        )
        self.detector = RemoteDetector(
            RemoteSettings(
                url=config.detector_url,
                timeout=0.5,
                sample_fps=2.0,
                side=320,
                rules=DetectionRules(classes=frozenset({"person"})),
            ),
            session,
            run,
        )
        budget = AnalysisBudget(
            BudgetSettings(daily_calls=None, daily_tokens=None),
            lambda: date(2026, 12, 1),
        )
        self.analyzer = WatchedAnalyzer(
            BudgetedAnalyzer(
                OpenAIAnalyzer(
                    OpenAISettings(
                        base_url=config.model_url,
                        api_key="sk-test",
                        timeout=0.8,
                        max_attempts=2,
                        retry_delay=0.05,
                        frames=FrameSelection(max_frames=2, max_size=320),
                    ),
                    session,
                    run,
                    lambda camera: (camera, None),
                ),
                budget,
            ),
            _rejected,
        )
        self.policy = DefaultAlertPolicy(
            PolicySettings(
                trigger_classes=frozenset({"person"}), min_risk_level=RiskLevel.MEDIUM
            )
        )
        self.snapshots = SnapshotKeeper(SnapshotStore(config.snapshots_root), run)
        self.pipeline = ClipPipeline(
            storage=WatchedStorage(self.storage, self.health.storage_failed),
            detector=GatedDetector(
                WatchedDetector(self.detector, _rejected, self.health.detector_status),
                lambda _: True,
            ),
            analyzer=self.analyzer,
            policy=self.policy,
            notifiers=[GatedNotifier(n, lambda _: True) for n in notifiers],
            repository=self.repository,
            snapshots=self.snapshots,
            listener=listener,
            settings=PipelineSettings(
                upload_retry=fast, analyze_retry=fast, notify_retry=fast
            ),
        )
        # builder.housekeeping
        self.housekeeping = Housekeeping(
            Housekept(
                spool=self.spool,
                storage=self.storage,
                repository=self.repository,
                local_root=config.store_root if config.storage is None else None,
                run_blocking=run_blocking,
                busy=self.pipeline.is_queued,
            ),
            config.store_limits,
            config.guard,
            config.free_space,
        )
        self._housekeeping_lock = asyncio.Lock()
        self.recording_stopped = False
        """Whether the sources were stopped because the disk is nearly full."""
        self._timers: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[object]] = set()
        self._recovery: asyncio.Task[None] | None = None
        self._cameras: list[str] = []
        self.last_retention: RetentionPlan | None = None
        self.errors: list[str] = []
        """Exceptions that escaped a timer's action (Home Assistant logs them)."""

    # runtime.HomeSecRuntime.async_start
    async def async_start(self, cameras: list[str]) -> None:
        """Prepare folders and the store; the spool learns every known id."""
        self._cameras = cameras
        await run_blocking(self.spool.root.mkdir, 0o755, True, True)
        if await self.repository.start():
            await self._async_learn_clip_ids()

    async def _async_learn_clip_ids(self) -> None:
        """As runtime._async_learn_clip_ids."""
        for camera in self._cameras:
            self.spool.remember(await self.repository.clip_ids(camera) or [])

    # runtime.HomeSecRuntime.async_start_sources (sources are the bench's driver)
    async def async_start_sources(self) -> None:
        """Guard the disks (sources stay stopped when full), recovery, timers."""
        await self.async_guard_disks()
        self._recovery = asyncio.create_task(self._async_recover())
        self.health.on_detector_back(self.detector_back)
        await self.async_ping_storage()
        timing = self.config.timing
        for action, every in (
            (self.async_ping_storage, timing.storage_ping),
            (self.async_store_tick, timing.store_tick),
            (self.async_probe_detector, timing.detector_probe),
            (self.async_retention, timing.retention),
            (self.async_guard_disks, timing.disk_check),
        ):
            self._timers.append(asyncio.create_task(_every(every, action, self.errors)))

    @property
    def recovered(self) -> bool:
        """Whether the start's recovery pass has run."""
        return self._recovery is not None and self._recovery.done()

    async def left_over(self) -> int:
        """Clips the catch-up still has to store or detect (1 if unknowable)."""
        unstored = await find_unstored(self.spool, self.repository, run_blocking)
        waiting = await find_waiting(self.spool, self.repository, run_blocking)
        if unstored is None or waiting is None:
            return 1
        return len(unstored) + len(waiting)

    async def async_stop(self) -> None:
        """As runtime.async_stop then Engine.close: clips in flight stay spooled."""
        for task in [*self._timers, *self._background]:
            task.cancel()
        if self._recovery is not None:
            self._recovery.cancel()
            self._background.add(self._recovery)
        await asyncio.gather(*self._timers, *self._background, return_exceptions=True)
        self._timers.clear()
        self._background.clear()
        await self.pipeline.stop()
        await self.detector.close()
        await self.storage.close()
        await self.repository.close()

    async def async_retention(self) -> RetentionPlan:
        """As runtime.async_retention (no dry run)."""
        plan = await apply_retention(
            self.spool,
            self.repository,
            self.config.retention,
            run_blocking,
            datetime.now(UTC),
            busy=self.pipeline.is_queued,
        )
        self.last_retention = plan
        if self.config.retention.max_age is not None:
            await self.snapshots.prune(datetime.now(UTC) - timedelta(days=30))
        async with self._housekeeping_lock:
            figures = await self.housekeeping.retention(datetime.now(UTC), plan)
        self._disk_level(figures)
        return plan

    async def async_guard_disks(self) -> StoreFigures:
        """As runtime.async_guard_disks."""
        async with self._housekeeping_lock:
            figures = await self.housekeeping.guard_disks(datetime.now(UTC))
        self._disk_level(figures)
        return figures

    def _disk_level(self, figures: StoreFigures) -> None:
        """As runtime._async_disk_level: sources stop below the floor, resume above."""
        if self.config.on_level is not None:
            self.config.on_level(figures.level)
        self.recording_stopped = figures.level is DiskLevel.FULL

    async def _async_recover(self) -> None:
        """As runtime._async_recover."""
        while True:
            mark = self.pipeline.mark()
            unfinished = await find_unfinished(
                self.spool, self.repository, run_blocking
            )
            if unfinished is not None:
                break
            await asyncio.sleep(self.config.timing.recovery_retry)
        await self._async_learn_clip_ids()
        for item in unfinished:
            await self.pipeline.resume(item.clip, item.state, mark)
        await self.async_store_pending()
        await self.async_retention()

    # catch_up.CatchUp
    async def async_store_pending(self) -> int:
        """Upload the spooled clips whose upload failed; return how many."""
        pending = await find_unstored(self.spool, self.repository, run_blocking)
        for item in pending or []:
            assert item.state is not None
            await self.pipeline.store_again(item.clip, item.state)
        return len(pending or [])

    async def async_detect_waiting(self, *, newest_only: bool = False) -> int:
        """Queue clips waiting for the detector again; return how many."""
        mark = self.pipeline.mark()
        waiting = await find_waiting(self.spool, self.repository, run_blocking)
        chosen = (waiting or [])[:1] if newest_only else waiting or []
        for item in chosen:
            await self.pipeline.resume(item.clip, item.state, mark)
        return len(chosen)

    def detector_back(self) -> None:
        """The detector answers again: detect every clip that waited for it."""
        task = asyncio.create_task(self.async_detect_waiting())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def async_probe_detector(self) -> None:
        """While the detector is away, try the newest waiting clip again."""
        if not self.health.detector_available:
            await self.async_detect_waiting(newest_only=True)

    async def async_ping_storage(self) -> None:
        """Ask the storage; when it answers again, store what it missed."""
        if await self.health.async_ping_storage():
            await self.async_store_pending()

    async def async_store_tick(self) -> None:
        """While the storage answers, store what an earlier failure missed."""
        if self.health.storage_reachable:
            await self.async_store_pending()


async def _every(
    seconds: float, action: Callable[[], Awaitable[object]], errors: list[str]
) -> None:
    """Run ``action`` every ``seconds`` (async_track_time_interval).

    Home Assistant logs an exception escaping a timer's action and keeps the
    timer; so does this, noting the exception for the report.
    """
    while True:
        await asyncio.sleep(seconds)
        try:
            await action()
        except Exception as err:  # noqa: BLE001 - reported by the bench
            errors.append(f"{getattr(action, '__name__', action)}: {err!r}")
