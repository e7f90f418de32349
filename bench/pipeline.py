"""Push 200 clips through ClipPipeline with instant stages.

Prints clips per second with the real SQLite state store and, as a baseline in
the same process, with a state store that does nothing (the ratio is the cost
of recording every stage), the peak Python memory and the process's peak RSS,
and the largest event-loop stall seen while the clips ran.

    .venv/bin/python -m bench.pipeline [--clips 200]
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
import resource
import sys
import tempfile
import time
import tracemalloc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import engine_only

engine_only.install()

from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.interfaces import (
    Notifier,
    ObjectDetector,
    StateStore,
    Storage,
)
from custom_components.homesec.engine.models import (
    Alert,
    Clip,
    ClipEvent,
    ClipState,
    FilterResult,
    UploadOutcome,
)
from custom_components.homesec.engine.pipeline import (
    ClipPipeline,
    PipelineSettings,
)
from custom_components.homesec.engine.policy import (
    DefaultAlertPolicy,
    PolicySettings,
)
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)

from .loop_monitor import LoopMonitor

FOUND = FilterResult(
    detected_classes=["motion"], confidence=0.9, frames_sampled=2, model="instant"
)


class InstantStorage(Storage):
    """Stores nothing, instantly."""

    async def put(self, clip: Clip) -> UploadOutcome:
        """Return a storage URI at once."""
        return UploadOutcome(storage_uri=f"bench:{clip.clip_id}")

    async def ping(self) -> bool:
        """Always reachable."""
        return True


class InstantDetector(ObjectDetector):
    """Finds motion in every clip, instantly."""

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Return a detection at once."""
        return FOUND


class CountingNotifier(Notifier):
    """Counts alerts."""

    name = "count"

    def __init__(self) -> None:
        """Start at zero."""
        self.count = 0

    async def notify(self, alert: Alert) -> None:
        """Count one."""
        self.count += 1


class NullStore(StateStore):
    """The baseline: a state store that keeps nothing."""

    async def start(self) -> None:
        """Nothing to prepare."""

    async def upsert_state(self, state: ClipState) -> None:
        """Drop the state."""

    async def append_event(self, event: ClipEvent) -> None:
        """Drop the event."""

    async def get_state(self, clip_id: str) -> ClipState | None:
        """Know nothing."""
        return None

    async def get_states(self, clip_ids: list[str]) -> dict[str, ClipState]:
        """Know nothing."""
        return {}

    async def close(self) -> None:
        """Nothing to close."""


async def run_once(store: StateStore, clips: int) -> tuple[float, float, int]:
    """Return (clips per second, largest loop stall in s, alerts delivered)."""
    repository = ClipRepository(store)
    notifier = CountingNotifier()
    pipeline = ClipPipeline(
        storage=InstantStorage(),
        detector=InstantDetector(),
        analyzer=None,
        policy=DefaultAlertPolicy(PolicySettings(notify_on_motion=True)),
        notifiers=[notifier],
        repository=repository,
        settings=PipelineSettings(),
    )
    await repository.start()
    start_ts = datetime(2026, 11, 24, tzinfo=UTC)
    batch = [
        Clip(
            clip_id=f"bench_{index:05d}",
            camera_name="bench",
            local_path=Path(f"/nonexistent/bench_{index:05d}.mp4"),
            start_ts=start_ts + timedelta(seconds=index),
            source_type="bench",
        )
        for index in range(clips)
    ]
    with LoopMonitor() as monitor:
        began = time.perf_counter()
        for clip in batch:
            await pipeline.submit(clip)
        await pipeline.drain()
        elapsed = time.perf_counter() - began
    await repository.close()
    return clips / elapsed, monitor.max_stall, notifier.count


async def main(clips: int) -> None:
    """Run the baseline and the SQLite pipeline; print the figures."""
    tracemalloc.start()
    baseline_rate, baseline_stall, baseline_alerts = await run_once(NullStore(), clips)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLAlchemyStateStore(sqlite_url(Path(folder) / "bench.db"))
        rate, stall, alerts = await run_once(store, clips)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert baseline_alerts == alerts == clips
    print(f"clips: {clips} (instant upload, detection and notification)")
    print(f"baseline (no state store): {baseline_rate:8.1f} clips/s")
    print(f"SQLite state store:        {rate:8.1f} clips/s")
    print(f"ratio SQLite / baseline:   {rate / baseline_rate:8.3f}")
    stall_ms, baseline_ms = stall * 1000, baseline_stall * 1000
    print(f"largest event-loop stall:  {stall_ms:8.1f} ms (baseline {baseline_ms:.1f})")
    print(f"peak Python memory:        {peak / 1024**2:8.1f} MB (tracemalloc)")
    print(f"peak process RSS:          {rss_mb:8.1f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=200)
    asyncio.run(main(parser.parse_args().clips))
