"""The chaos monkey: seeded outages of every service the hub depends on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import random
import time

from tests.doubles.detection_server import DetectionServer
from tests.doubles.openai_server import OpenAIServer

from .chaos_runtime import run_blocking
from .chaos_services import (
    DropboxOutage,
    HttpService,
    PostgresOutage,
    SqliteLock,
    StorageOutage,
    WebhookReceiver,
)

STORAGE = "storage down"
STATE_STORE = "state store down"
DETECTOR = "detector down/5xx/slow"
MODEL = "model server down/429/slow"
NOTIFIER = "notifier down/503"
RESTART = "restart mid-clip"
FAULT_CLASSES = (STORAGE, STATE_STORE, DETECTOR, MODEL, NOTIFIER, RESTART)


@dataclass(frozen=True, slots=True)
class Interval:
    """A fault class active from ``start`` to ``end`` (monotonic seconds)."""

    fault: str
    detail: str
    start: float
    end: float


@dataclass
class Services:
    """Everything the monkey can break."""

    detection: DetectionServer
    detection_http: HttpService
    model: OpenAIServer
    model_http: HttpService
    receiver: WebhookReceiver
    receiver_http: HttpService
    storage: StorageOutage | DropboxOutage
    store: SqliteLock | PostgresOutage

    async def all_up(self) -> None:
        """Repair every service and set every double to answer normally."""
        await run_blocking(self.storage.repair)
        await run_blocking(self.store.release)
        self.detection.mode = "ok"
        self.model.mode, self.model.fail_times = "ok", 0
        self.receiver.mode = "ok"
        for http in (self.detection_http, self.model_http, self.receiver_http):
            await http.start()


@dataclass
class Monkey:
    """Breaks one service at a time per class, for a seeded while, then repairs."""

    rng: random.Random
    services: Services
    restart: Callable[[], Awaitable[None]]
    intervals: list[Interval] = field(default_factory=list)
    _busy: set[str] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def run(self, done: asyncio.Event, pause: tuple[float, float]) -> None:
        """Start a fault every ``pause`` seconds (uniform) until ``done``."""
        while not done.is_set():
            await asyncio.sleep(self.rng.uniform(*pause))
            fault = self.rng.choice(FAULT_CLASSES)
            if fault == RESTART:
                start = time.monotonic()
                await self.restart()
                self.intervals.append(Interval(RESTART, "", start, time.monotonic()))
            elif fault not in self._busy:
                self._busy.add(fault)
                task = asyncio.create_task(self._outage(fault))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        await asyncio.gather(*self._tasks)

    async def _outage(self, fault: str) -> None:
        s, rng = self.services, self.rng
        seconds = rng.uniform(0.3, 3.0)
        how = ""
        start = time.monotonic()
        if fault == STORAGE:
            how = (
                "store folder replaced by a file"
                if isinstance(s.storage, StorageOutage)
                else "uploads answer HTTP 503"
            )
            await run_blocking(s.storage.break_)
            await asyncio.sleep(seconds)
            await run_blocking(s.storage.repair)
        elif fault == STATE_STORE:
            seconds = rng.uniform(1.0, 8.0)  # SQLite waits 5 s before it fails
            what = "write lock held" if isinstance(s.store, SqliteLock) else "stopped"
            how = f"{what} {seconds:.1f} s"
            await run_blocking(s.store.hold)
            await asyncio.sleep(seconds)
            await run_blocking(s.store.release)
        elif fault == DETECTOR:
            how = rng.choice(("stopped", "http500", "slow"))
            await self._http(s.detection_http, s.detection, how, seconds)
        elif fault == MODEL:
            how = rng.choice(("stopped", "http429", "slow"))
            if how == "http429":
                s.model.fail_times = rng.randint(1, 6)
                await asyncio.sleep(seconds)
                s.model.fail_times = 0
            else:
                await self._http(s.model_http, s.model, how, seconds)
        elif fault == NOTIFIER:
            how = rng.choice(("stopped", "http503"))
            await self._http(s.receiver_http, s.receiver, how, seconds)
        self.intervals.append(Interval(fault, how, start, time.monotonic()))
        self._busy.discard(fault)

    @staticmethod
    async def _http(
        http: HttpService,
        double: DetectionServer | OpenAIServer | WebhookReceiver,
        how: str,
        seconds: float,
    ) -> None:
        if how == "stopped":
            await http.stop()
            await asyncio.sleep(seconds)
            await http.start()
            return
        double.mode = how
        await asyncio.sleep(seconds)
        double.mode = "ok"
