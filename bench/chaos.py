"""Fault-injection bench: clips are never lost and alerts never sent twice.

Drives the real engine (ClipPipeline, Spool, recovery, retention of the
spool and of the clip store, the free disk guard, the catch-up of failed
uploads and of clips waiting for the detector) wired and timed as the Home
Assistant runtime does (bench/chaos_runtime.py), with real
SQLite (or a real PostgreSQL with ``--postgres``), real local storage (or
Dropbox's SDK against the Dropbox API double with ``--dropbox``), the
remote detector against the detection server double, the OpenAI-compatible
analyzer against the model server double, and two outputs: a webhook (HTTP,
can fail) and an in-process recorder standing for the event bus.

Several cameras deliver a few hundred small real H.264 clips (made once with
PyAV, each copy tagged so every file can be traced), including two files of
one camera in the same second, two adopted at the same moment from two
threads (one through a second Spool, as another process would), camera clocks
set back onto earlier seconds, and bursts that fill the spool past its limit.
Meanwhile a seeded monkey takes services down and up, for real
(bench/chaos_services.py says how): storage (its folder replaced by a file:
the real OSError; chmod would not bite as root), the state store (SQLite's
write lock held by another connection, or Postgres stopped), the detector
and the model server (socket closed, HTTP 5xx/429, answers slower than the
timeout), the webhook (socket closed, HTTP 503), and restarts the hub
mid-clip (cancel, close, build a new engine on the same spool and database,
recover).

The clip store's limit is a quarter of what a run stores (at most twice the
spool's), so store retention deletes most stored copies on the way. The disk
guard measures a simulated disk (bench/chaos_disk.py: a made-up size over the
real clip files) sized so that free space runs low when the spool grows
during storage outages or between retention passes; below its floor the
sources stop and the bench refuses arrivals as they would.

At the end every service is up, the hub is restarted once more and left to
recover and catch up; then each clip is judged. Retired: its stored copy is
gone, deleted by retention or the disk guard after it was uploaded and
finished, as its ``clip_deleted`` event and its state say. Refused: it arrived
while recording was stopped. Lost: neither of those, nor in the spool with an
unfinished state, nor stored (with its detection done). Duplicate alert: one
output got one clip's alert more than once. The bench prints per fault class
(a clip counts in every class it met on its way) and in total, traces of the
first bad clips, the peaks and end sizes of the spool and the store, what the
disk guard did, then ``clips lost: N`` and ``duplicate alerts: N``; it exits
1 when either is not 0, when an alert the clip's state decided is neither
delivered nor recorded as failed, or when the spool or the store ends over
its limit (between retention passes, and for the spool during outages, they
may exceed it).
``--sabotage lose|unstore|duplicate`` breaks things on purpose, to see the
bench fail.

    .venv/bin/python -m bench.chaos --seeds 1 2 3 --clips 300
    .venv/bin/python -m bench.chaos --quick          # CI: 2 seeds x 60 clips
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
import logging
import os
from pathlib import Path
import random
import resource
import shutil
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import engine_only

engine_only.install()

import aiohttp
from sqlalchemy import func, select

from custom_components.homesec.engine.disk_guard import DiskGuardSettings, DiskLevel
from custom_components.homesec.engine.interfaces import BlockingRunner, Storage
from custom_components.homesec.engine.models import (
    Clip,
    ClipEvent,
    ClipEventType,
    ClipFinished,
    LifecycleEvent,
)
from custom_components.homesec.engine.retention import RetentionSettings
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    clip_events,
    sqlite_url,
)
from custom_components.homesec.engine.storage.dropbox import (
    DropboxSettings,
    DropboxStorage,
)
from custom_components.homesec.engine.store_retention import StoreRetentionSettings
from tests.doubles.detection_server import DetectionServer
from tests.doubles.dropbox_api import DropboxDouble
from tests.doubles.openai_server import OpenAIServer
from tests.doubles.tls import make_certificate
from tests.servers import Postgres

from .chaos_clips import make_clips, tagged, token_in
from .chaos_disk import SimulatedDisk, folder_bytes
from .chaos_faults import Monkey, Services
from .chaos_report import (
    Submitted,
    Verdict,
    classes_of,
    files_by_token,
    judge,
    print_table,
    table,
    trace,
)
from .chaos_runtime import BenchHub, HubConfig, run_blocking
from .chaos_services import (
    DropboxOutage,
    HttpService,
    PostgresOutage,
    RecordingNotifier,
    ServerThread,
    SqliteLock,
    StorageOutage,
    WebhookNotifier,
    WebhookReceiver,
)
from .loop_monitor import LoopMonitor

CAMERAS = ("front_door", "garage", "garden", "street")
SPOOL_LIMIT_CLIPS = 40
"""The spool's size limit, in clips: bursts and outages go past it."""
DISK_LOW_CLIPS = 30
"""The disk guard's low level, in clips (its floor is half of it)."""


def disk_spare_clips(clips: int) -> int:
    """Clips the disk holds beyond both limits before free space is low.

    A third of the run: the spool's clips kept while the storage or the state
    store is down, arrivals between two retention passes, and the copies the
    catch-up makes of them when the storage is back, go past it.
    """
    return max(8, clips // 3)


def store_limit_clips(clips: int) -> int:
    """The clip store's size limit, in clips: a run stores 4 times as many."""
    return max(10, min(2 * SPOOL_LIMIT_CLIPS, clips // 4))


SETTLE_TIMEOUT = 60.0
SABOTAGE_EVERY = 6
"""With ``--sabotage``, the bench sabotages once every so many arrival rounds."""


@dataclass(frozen=True, slots=True)
class Options:
    """How the bench runs."""

    clips: int
    postgres: bool = False
    dropbox: bool = False
    sabotage: str | None = None
    """``lose`` (a cleaner deletes unstored spooled clips), ``unstore`` (a
    cleaner deletes stored copies no retention chose) or ``duplicate`` (clips
    are resubmitted as if the store forgot them): the bench must fail."""
    fault_pause: tuple[float, float] = (0.1, 0.6)
    arrival_pause: tuple[float, float] = (0.05, 0.35)


@dataclass
class SeedResult:
    """Figures of one seed."""

    seed: int
    verdicts: list[Verdict]
    peak_spool: int
    final_spool: int
    spool_limit: int
    peak_store: int
    final_store: int
    store_limit: int
    disk: DiskFigures
    rss_quarters: list[float]
    peak_rss: float
    max_stall: float
    seconds: float
    traces: list[str] = field(default_factory=list)
    hub_errors: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    effects: Counter[str] = field(default_factory=Counter)


@dataclass
class DiskFigures:
    """What the disk guard saw and did in one seed."""

    size: int
    low: int
    floor: int
    min_free: int | None = None
    levels: list[tuple[float, DiskLevel]] = field(default_factory=list)
    """(seconds into the run, level) at each change."""
    trims: Counter[str] = field(default_factory=Counter)
    """clip_deleted events by ``copy reason``."""
    trim_times: dict[str, tuple[float, float]] = field(default_factory=dict)
    """First and last such deletion (seconds into the run), by ``copy reason``."""

    def level_changes(self) -> str:
        """``ok->low at 12.3 s, ...``, or that the level never left ok."""
        if not self.levels:
            return "stayed ok"
        shown = [f"{level} at {at:.1f} s" for at, level in self.levels[:8]]
        more = len(self.levels) - len(shown)
        return ", ".join(shown) + (f" (+{more} more changes)" if more else "")


def rss_mb() -> float:
    """The process's resident memory now (MB)."""
    pages = int(Path("/proc/self/statm").read_text(encoding="ascii").split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024**2


def spool_bytes(root: Path) -> int:
    """Bytes of finalized clips in the spool (what retention counts)."""
    total = 0
    if not root.is_dir():
        return 0
    for folder in os.scandir(root):
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder.path):
            if entry.name.startswith("."):
                continue
            try:
                total += entry.stat().st_size
            except FileNotFoundError:
                continue  # retention deleted it meanwhile
    return total


class Bench:
    """One seed's run."""

    def __init__(
        self, seed: int, options: Options, clips: dict[str, bytes], folder: Path
    ) -> None:
        """Prepare (nothing runs yet)."""
        self.seed = seed
        self.rng = random.Random(seed)
        self.options = options
        self.clips = clips
        self.folder = folder
        self.incoming = folder / "incoming"
        self.submitted: list[Submitted] = []
        self.by_clip: dict[str, Submitted] = {}
        self.hub: BenchHub | None = None
        self.restarting = asyncio.Lock()
        self.t0 = time.monotonic()
        self.started_at = datetime.now(UTC)
        self.peak_spool = 0
        self.rss_quarters: list[float] = []
        self.peak_rss = 0.0
        self.hub_errors: list[str] = []
        self._lose_next = False
        """Sabotage: delete the next adopted clip before it is submitted."""
        self.stored_files: Callable[[], dict[str, list[Path]]] = dict
        """The stored clip files by token (blocking)."""
        self._ticks: dict[str, int] = dict.fromkeys(CAMERAS, 0)
        self._seconds_used: dict[str, list[datetime]] = {c: [] for c in CAMERAS}
        self._start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
        clip = len(clips["person"])
        limit = SPOOL_LIMIT_CLIPS * clip
        self.retention = RetentionSettings(max_bytes=limit, max_age=timedelta(days=30))
        store_limit = store_limit_clips(options.clips) * clip
        self.store_limits = StoreRetentionSettings(
            max_bytes=store_limit,
            max_age=timedelta(days=30),  # clips are two hours old: never bites
            alerted_max_age=timedelta(days=60),
        )
        low = DISK_LOW_CLIPS * clip
        self.guard = DiskGuardSettings(low_bytes=low, floor_bytes=low // 2)
        self.disk = DiskFigures(
            size=limit + store_limit + disk_spare_clips(options.clips) * clip + low,
            low=low,
            floor=low // 2,
        )
        self.peak_store = 0
        self.store_bytes: Callable[[], int] = partial(
            folder_bytes, folder / "clips.real"
        )
        """The clip store's size now (blocking)."""

    def on_level(self, level: DiskLevel) -> None:
        """Note each change of the disk level a guard pass found."""
        last = self.disk.levels[-1][1] if self.disk.levels else DiskLevel.OK
        if level is not last:
            self.disk.levels.append((time.monotonic() - self.t0, level))

    # --- the hub -----------------------------------------------------------
    def listener(self, event: LifecycleEvent) -> None:
        """Note when each clip finished (the last time, if it ran twice)."""
        if isinstance(event, ClipFinished):
            item = self.by_clip.get(event.clip.clip_id)
            if item is not None:
                item.finished_at = time.monotonic()

    async def new_hub(self) -> BenchHub:
        """Build, start and recover a hub on the same spool and database."""
        hub = BenchHub(self.config, self.session, self.notifiers, self.listener)
        self.hub = hub
        await hub.async_start(list(CAMERAS))
        await hub.async_start_sources()
        return hub

    async def restart(self) -> None:
        """Stop the hub mid-clip (clips in flight stay spooled), start a new one."""
        async with self.restarting:
            if self.hub is not None:
                self.hub_errors += self.hub.errors
                await self.hub.async_stop()
            await self.new_hub()

    # --- the cameras ---------------------------------------------------------
    def _next_second(self, camera: str) -> datetime:
        self._ticks[camera] += self.rng.randint(1, 5)
        ts = self._start + timedelta(seconds=self._ticks[camera])
        self._seconds_used[camera].append(ts)
        return ts

    def _file(self, item: Submitted) -> Path:
        path = self.incoming / f"{item.token}.mp4"
        path.write_bytes(tagged(self.clips[item.kind], item.token))
        return path

    async def arrive(
        self, camera: str, arrival: str, ts: datetime, spool: Spool | None = None
    ) -> None:
        """One file lands and is adopted into the spool, then submitted."""
        kind = "person" if self.rng.random() < 0.5 else "empty"
        item = Submitted(
            token=f"s{self.seed}-{len(self.submitted)}",
            camera=camera,
            kind=kind,
            arrival=arrival,
            at=time.monotonic(),
        )
        self.submitted.append(item)
        assert self.hub is not None
        if self.hub.recording_stopped:
            # The sources are stopped: the camera's upload is refused.
            item.refused = True
            return
        path = await run_blocking(self._file, item)
        target = spool or self.hub.spool
        try:
            clip = await run_blocking(target.adopt, path, camera, "ftp", ts)
        except OSError as err:
            item.adopt_error = f"{type(err).__name__}: {err}"
            return
        item.clip_id = clip.clip_id
        if self._lose_next and target is self.hub.spool:
            self._lose_next = False
            await run_blocking(clip.local_path.unlink, True)
            item.notes.append("sabotage: deleted from the spool")
        if clip.clip_id in self.by_clip:
            other = self.by_clip[clip.clip_id]
            item.notes.append(
                f"clip id already given to {other.token} ({other.arrival}, "
                f"t={other.at - self.t0:.2f}s)"
            )
            other.notes.append(
                f"clip id given again to {item.token} ({item.arrival}, "
                f"t={item.at - self.t0:.2f}s)"
            )
        self.by_clip[clip.clip_id] = item
        hub = self.hub  # the hub running now (a restart may have replaced it)
        await hub.pipeline.submit(clip)

    async def drive(self, done: asyncio.Event) -> None:
        """Deliver the clips: mostly one at a time, some in awkward ways."""
        total = self.options.clips
        quarter = rounds = 1
        while len(self.submitted) < total:
            camera = self.rng.choice(CAMERAS)
            roll = self.rng.random()
            if roll < 0.1:
                ts = self._next_second(camera)
                await self.arrive(camera, "duplicate second", ts)
                await self.arrive(camera, "duplicate second", ts)
            elif roll < 0.2:
                ts = self._next_second(camera)
                if self.rng.random() < 0.5:  # two FTP threads of one hub
                    await asyncio.gather(
                        self.arrive(camera, "concurrent arrival", ts),
                        self.arrive(camera, "concurrent arrival", ts),
                    )
                else:  # and a second Spool on the same folder (another process)
                    other = Spool(self.config.spool_root)
                    await asyncio.gather(
                        self.arrive(camera, "concurrent, 2nd Spool", ts),
                        self.arrive(camera, "concurrent, 2nd Spool", ts, other),
                    )
            elif roll < 0.27 and self._seconds_used[camera]:
                ts = self.rng.choice(self._seconds_used[camera])
                await self.arrive(camera, "clock set back", ts)
            elif roll < 0.32:
                await asyncio.gather(
                    *(
                        self.arrive(c, "spool burst", self._next_second(c))
                        for c in self.rng.choices(CAMERAS, k=12)
                    )
                )
            else:
                await self.arrive(camera, "normal", self._next_second(camera))
            rounds += 1
            if self.options.sabotage is not None and rounds % SABOTAGE_EVERY == 0:
                await self.sabotage()
            while quarter <= 4 and len(self.submitted) >= total * quarter / 4:
                self.rss_quarters.append(rss_mb())
                quarter += 1
            await asyncio.sleep(self.rng.uniform(*self.options.arrival_pause))
        done.set()

    async def sabotage(self) -> None:
        """Deliberate faults the engine cannot survive: the bench must see them."""
        hub = self.hub
        assert hub is not None
        entries = await run_blocking(hub.spool.entries)
        if self.options.sabotage == "lose":
            # A disk cleaner deletes the next spooled clip before it is stored
            # (see arrive).
            self._lose_next = True
        elif self.options.sabotage == "unstore":
            # A disk cleaner deletes a stored copy no retention chose.
            stored = await run_blocking(self.stored_files)
            for token, paths in stored.items():
                item = next((s for s in self.submitted if s.token == token), None)
                if item is None or "sabotage" in " ".join(item.notes):
                    continue
                await run_blocking(paths[0].unlink, True)
                item.notes.append("sabotage: deleted from the clip store")
                return
        elif self.options.sabotage == "duplicate":
            # A finished clip is submitted again without its state, as if the
            # state store had forgotten it.
            for entry in entries:
                item = self.by_clip.get(entry.clip_id)
                if item is None or item.kind != "person" or not item.finished_at:
                    continue
                if hub.pipeline.is_queued(entry.clip_id):
                    continue
                item.notes.append("sabotage: submitted again without its state")
                await hub.pipeline.submit(
                    Clip(
                        clip_id=entry.clip_id,
                        camera_name=entry.camera_name,
                        local_path=entry.path,
                        start_ts=entry.mtime,
                        source_type="sabotage",
                    )
                )
                return

    async def sample(self, done: asyncio.Event) -> None:
        """Peak spool and store bytes, least free space and RSS, 10 times a second."""
        while not done.is_set():
            size = await run_blocking(spool_bytes, self.config.spool_root)
            self.peak_spool = max(self.peak_spool, size)
            stored = await run_blocking(self.store_bytes)
            self.peak_store = max(self.peak_store, stored)
            free = await run_blocking(self.free_space, self.config.spool_root)
            least = self.disk.min_free
            self.disk.min_free = free if least is None else min(least, free)
            self.peak_rss = max(self.peak_rss, rss_mb())
            await asyncio.sleep(0.1)

    # --- the run -----------------------------------------------------------
    async def run(self) -> SeedResult:
        """Run the seed and judge every clip."""
        await run_blocking(self.incoming.mkdir, 0o755, True)
        servers = ServerThread()
        doubles = await start_doubles(servers)
        detection, detection_http, model, model_http, receiver, receiver_http = doubles
        database_url, store_outage, postgres = await self.state_store()
        store_root = self.folder / "clips"
        storage_outage: StorageOutage | DropboxOutage = StorageOutage(store_root)
        self.stored_files = partial(files_by_token, store_root)
        dropbox = None
        if self.options.dropbox:
            dropbox, storage_outage, make_storage = await self.dropbox()
        self.free_space = SimulatedDisk(
            [
                self.folder / name
                for name in ("spool", "clips.real", "incoming", "snapshots")
            ],
            self.disk.size,
        )
        self.config = HubConfig(
            spool_root=self.folder / "spool",
            store_root=store_root,
            snapshots_root=self.folder / "snapshots",
            database_url=database_url,
            detector_url=detection_http.base,
            model_url=model_http.base + "/v1",
            webhook_url=receiver_http.base + "/alert",
            retention=self.retention,
            store_limits=self.store_limits,
            guard=self.guard,
            free_space=self.free_space,
            on_level=self.on_level,
            storage=make_storage if dropbox is not None else None,
        )
        self.session = aiohttp.ClientSession()
        bus = RecordingNotifier("bus")
        webhook = WebhookNotifier(
            "webhook", self.config.webhook_url, self.session, timeout=0.5
        )
        self.notifiers = [bus, webhook]
        services = Services(
            detection, detection_http, model, model_http, receiver, receiver_http,
            storage_outage, store_outage,
        )  # fmt: skip
        monkey = Monkey(self.rng, services, self.restart)
        try:
            with LoopMonitor() as loop:
                await self.new_hub()
                arrivals_done, sampling_done = asyncio.Event(), asyncio.Event()
                sampler = asyncio.create_task(self.sample(sampling_done))
                await asyncio.gather(
                    self.drive(arrivals_done),
                    monkey.run(arrivals_done, self.options.fault_pause),
                )
                await services.all_up()
                await self.restart()  # the last restart, every service up
                await self.settle()
                sampling_done.set()
                await sampler
                max_stall = loop.max_stall
            hub = self.hub
            assert hub is not None
            self.hub_errors += hub.errors
            await hub.async_stop()
            end = time.monotonic()
            verdicts, traces, effects = await self.judge(
                database_url, {"bus": bus.received, "webhook": receiver.received},
                monkey, end,
            )  # fmt: skip
            final_spool = await run_blocking(spool_bytes, self.config.spool_root)
            final_store = await run_blocking(self.store_bytes)
        finally:
            await self.session.close()
            for http in (detection_http, model_http, receiver_http):
                await http.stop()
            servers.close()
            if postgres is not None:
                await run_blocking(postgres.remove)
            if dropbox is not None:
                await run_blocking(dropbox.stop)
        return SeedResult(
            seed=self.seed,
            verdicts=verdicts,
            peak_spool=self.peak_spool,
            final_spool=final_spool,
            spool_limit=self.retention.max_bytes or 0,
            peak_store=self.peak_store,
            final_store=final_store,
            store_limit=self.store_limits.max_bytes or 0,
            disk=self.disk,
            rss_quarters=self.rss_quarters,
            peak_rss=self.peak_rss,
            max_stall=max_stall,
            seconds=end - self.t0,
            traces=traces,
            hub_errors=self.hub_errors,
            faults=Counter(i.fault for i in monkey.intervals),
            effects=effects,
        )

    async def state_store(
        self,
    ) -> tuple[str, SqliteLock | PostgresOutage, Postgres | None]:
        """The database URL, its outage, and the Postgres server if one runs."""
        if not self.options.postgres:
            database = self.folder / "homesec.db"
            return sqlite_url(database), SqliteLock(database), None
        postgres = Postgres()
        await run_blocking(postgres.start)
        return postgres.dsn, PostgresOutage(postgres), postgres

    async def dropbox(
        self,
    ) -> tuple[DropboxDouble, DropboxOutage, Callable[[BlockingRunner], Storage]]:
        """The Dropbox API double, its outage, and the storage using it."""
        cert, key = await run_blocking(make_certificate, self.folder)
        double = DropboxDouble(cert, key)
        double.start()

        def stored_files() -> dict[str, list[Path]]:
            found: dict[str, list[Path]] = {}
            for path_display, data in list(double.state.files.values()):
                token = token_in(data)
                if token is not None:
                    found.setdefault(token, []).append(Path(path_display))
            return found

        def make_storage(run: BlockingRunner) -> Storage:
            settings = DropboxSettings(refresh_token="refresh-token", app_key="app-key")
            return DropboxStorage(settings, run, double.session)

        self.stored_files = stored_files
        self.store_bytes = lambda: sum(
            len(data) for _, data in list(double.state.files.values())
        )
        return double, DropboxOutage(double), make_storage

    async def settle(self) -> None:
        """Let the last hub recover and catch up, by its own timers, until idle."""
        hub = self.hub
        assert hub is not None
        deadline = time.monotonic() + SETTLE_TIMEOUT
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            await asyncio.sleep(0.5)
            # Bounded: catch-up may keep queueing copies a full disk refuses.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(hub.pipeline.drain()),
                    max(0.1, deadline - time.monotonic()),
                )
            busy = hub.pipeline.in_flight or not hub.recovered
            left = await hub.left_over()
            quiet = 0 if busy or left else quiet + 1
        await hub.async_retention()

    async def histories(
        self, store: SQLAlchemyStateStore
    ) -> dict[str, list[ClipEvent]]:
        """Uploaded, finished and clip_deleted events by clip, as recorded.

        Notes the deletions in the disk figures, by copy and reason.
        """
        wanted = (ClipEventType.UPLOADED, ClipEventType.FINISHED, ClipEventType.DELETED)
        async with store.engine.connect() as conn:
            rows = await conn.execute(
                select(clip_events)
                .where(clip_events.c.event_type.in_([kind.value for kind in wanted]))
                .order_by(clip_events.c.id)
            )
            events = [
                ClipEvent(
                    clip_id=row.clip_id,
                    camera_name=row.camera_name,
                    event_type=ClipEventType(row.event_type),
                    ts=row.ts,
                    detail=row.detail,
                )
                for row in rows
            ]
        found: dict[str, list[ClipEvent]] = {}
        start = self.started_at
        for event in events:
            found.setdefault(event.clip_id, []).append(event)
            if event.event_type is not ClipEventType.DELETED:
                continue
            key = f"{event.detail.get('copy')} {event.detail.get('reason')}"
            self.disk.trims[key] += 1
            at = (
                event.ts.replace(tzinfo=event.ts.tzinfo or UTC) - start
            ).total_seconds()
            first, _ = self.disk.trim_times.get(key, (at, at))
            self.disk.trim_times[key] = (first, at)
        return found

    async def judge(
        self,
        database_url: str,
        received: dict[str, Counter[str]],
        monkey: Monkey,
        end: float,
    ) -> tuple[list[Verdict], list[str], Counter[str]]:
        """Each clip's verdict, from the database and the files, and the traces."""
        store = SQLAlchemyStateStore(database_url)
        await store.start()
        ids = [s.clip_id for s in self.submitted if s.clip_id]
        states = await store.get_states(ids)
        spool = await run_blocking(files_by_token, self.config.spool_root)
        stored = await run_blocking(self.stored_files)
        histories = await self.histories(store)
        verdicts = [
            judge(
                item,
                states.get(item.clip_id or ""),
                spool,
                stored,
                received,
                classes_of(item, monkey.intervals, end),
                histories.get(item.clip_id or "", []),
            )
            for item in self.submitted
        ]
        traces: list[str] = []
        bad = sorted(
            (v for v in verdicts if v.lost or v.duplicates or v.alert_missing),
            key=lambda v: not v.submitted.notes,  # sabotaged and collided first
        )
        for verdict in bad[:6]:
            async with store.engine.connect() as conn:
                rows = await conn.execute(
                    select(clip_events)
                    .where(clip_events.c.clip_id == verdict.submitted.clip_id)
                    .order_by(clip_events.c.id)
                )
                events = [
                    ClipEvent(
                        clip_id=row.clip_id,
                        camera_name=row.camera_name,
                        event_type=ClipEventType(row.event_type),
                        ts=row.ts,
                        detail=row.detail,
                    )
                    for row in rows
                ]
            problem = (
                "LOST" if verdict.lost else
                "DUPLICATE ALERT" if verdict.duplicates else "ALERT MISSING"
            )  # fmt: skip
            traces.append(f" {problem}:")
            traces += trace(verdict, events, monkey.intervals, self.t0)
        async with store.engine.connect() as conn:
            effects = Counter(
                {
                    row.event_type: row.count
                    for row in await conn.execute(
                        select(
                            clip_events.c.event_type,
                            func.count().label("count"),
                        ).group_by(clip_events.c.event_type)
                    )
                }
            )
        await store.close()
        return verdicts, traces, effects


async def start_doubles(
    servers: ServerThread,
) -> tuple[
    DetectionServer,
    HttpService,
    OpenAIServer,
    HttpService,
    WebhookReceiver,
    HttpService,
]:
    """The detection server, the model server and the webhook, listening."""
    detection, model, receiver = DetectionServer(), OpenAIServer(), WebhookReceiver()
    detection_http = HttpService(
        "detector", [("POST", "/v1/vision/detection", detection.handle)], servers
    )
    model_http = HttpService(
        "model",
        [
            ("POST", "/v1/chat/completions", model.handle),
            ("GET", "/v1/models", model.models),
        ],
        servers,
    )
    receiver_http = HttpService(
        "webhook", [("POST", "/alert", receiver.handle)], servers
    )
    for http in (detection_http, model_http, receiver_http):
        await http.start()
    return detection, detection_http, model, model_http, receiver, receiver_http


def print_disk(disk: DiskFigures) -> None:
    """The simulated disk, the guard's levels, and what it and retention deleted."""
    least = "?" if disk.min_free is None else f"{disk.min_free / 1024:.0f}"
    print(
        f"  disk (simulated {disk.size / 1024:.0f} KiB over the real clip files): "
        f"least free {least} KiB, low below {disk.low / 1024:.0f} KiB, floor "
        f"{disk.floor / 1024:.0f} KiB; level {disk.level_changes()}; recording "
        + (
            "stopped (arrivals refused meanwhile)"
            if any(level is DiskLevel.FULL for _, level in disk.levels)
            else "never stopped"
        )
    )
    deleted = ", ".join(
        f"{key} {n} (t={disk.trim_times[key][0]:.1f}..{disk.trim_times[key][1]:.1f} s)"
        for key, n in sorted(disk.trims.items())
    )
    print(f"  copies deleted (copy reason): {deleted or 'none'}")


def report(results: list[SeedResult]) -> int:
    """Print every figure; return the exit status."""
    verdicts = [v for r in results for v in r.verdicts]
    rows = table(verdicts)
    print()
    print_table(rows)
    print()
    over = store_over = False
    for r in results:
        print(
            f"seed {r.seed}: {len(r.verdicts)} clips in {r.seconds:.1f} s; "
            f"spool peak {r.peak_spool / 1024:.0f} KiB vs limit "
            f"{r.spool_limit / 1024:.0f} KiB, at the end {r.final_spool / 1024:.0f} "
            f"KiB; RSS by quarter {' '.join(f'{q:.0f}' for q in r.rss_quarters)} MB "
            f"(peak {r.peak_rss:.0f} MB); largest loop stall "
            f"{r.max_stall * 1000:.0f} ms"
        )
        print(
            f"  clip store: peak {r.peak_store / 1024:.0f} KiB vs limit "
            f"{r.store_limit / 1024:.0f} KiB, at the end {r.final_store / 1024:.0f} "
            f"KiB"
        )
        print_disk(r.disk)
        print(
            "  faults: "
            + ", ".join(f"{name} x{n}" for name, n in sorted(r.faults.items()))
        )
        print(
            "  history: "
            + ", ".join(f"{name} {n}" for name, n in sorted(r.effects.items()))
        )
        over |= r.final_spool > r.spool_limit
        store_over |= r.final_store > r.store_limit
        for line in r.traces:
            print(line)
        for error in r.hub_errors[:5]:
            print(f"  hub timer error: {error}")
    total = rows["TOTAL"]
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print()
    print(f"clips submitted: {total.submitted}")
    print(f"clips stored exactly once: {total.stored_once}")
    print(f"clips fully processed: {total.processed}")
    print(
        f"alerts expected: {total.alerts_expected} x 2 outputs; delivered "
        f"{total.delivered}, recorded as failed {total.failed_recorded}, "
        f"missing {total.alert_missing}"
    )
    print(
        f"clips retired (stored copy deleted once done): by store retention "
        f"{total.retired_retention}, by the disk guard {total.retired_disk}"
    )
    print(f"clips refused while the disk was full: {total.refused}")
    print(f"peak RSS: {peak_rss:.0f} MB")
    print(
        f"largest event-loop stall: {max(r.max_stall for r in results) * 1000:.0f} ms"
    )
    if over:
        print("spool over its limit at the end: yes")
    if store_over:
        print("clip store over its limit at the end: yes")
    print(f"clips lost: {total.lost}")
    print(f"duplicate alerts: {total.duplicates}")
    failed = total.lost or total.duplicates or total.alert_missing or over or store_over
    return 1 if failed else 0


async def run(seeds: list[int], options: Options) -> int:
    """Run every seed, then report."""
    results = []
    with tempfile.TemporaryDirectory(prefix="homesec-chaos-") as folder:
        clips = await run_blocking(make_clips, Path(folder) / "made")
        for seed in seeds:
            seed_folder = Path(folder) / f"seed-{seed}"
            result = await Bench(seed, options, clips, seed_folder).run()
            results.append(result)
            await run_blocking(shutil.rmtree, seed_folder, True)
            lost = sum(v.lost for v in result.verdicts)
            dup = sum(v.duplicates for v in result.verdicts)
            print(
                f"seed {seed}: done in {result.seconds:.1f} s, lost {lost}, "
                f"duplicates {dup}",
                flush=True,
            )
    return report(results)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="2 seeds x 60 clips")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL store")
    parser.add_argument("--dropbox", action="store_true", help="Dropbox storage")
    parser.add_argument("--sabotage", choices=["lose", "unstore", "duplicate"])
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL)
    seeds, clips = args.seeds, args.clips
    if args.quick:
        seeds = args.seeds if "--seeds" in (argv or sys.argv) else [1, 2]
        clips = 60
    options = Options(
        clips=clips,
        postgres=args.postgres,
        dropbox=args.dropbox,
        sabotage=args.sabotage,
    )
    return asyncio.run(run(seeds, options))


if __name__ == "__main__":
    sys.exit(main())
