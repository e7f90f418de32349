"""Retries are bounded with exponential backoff; semaphores bound clips in flight;
SQLite runs in WAL mode."""

from __future__ import annotations

import asyncio
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
import sqlite3

import pytest

from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.interfaces import Analyzer, ObjectDetector
from custom_components.homesec.engine.models import (
    AnalysisResult,
    Clip,
    ClipDetected,
    FilterResult,
    RiskLevel,
)
from custom_components.homesec.engine.pipeline import ClipPipeline, PipelineSettings
from custom_components.homesec.engine.policy import DefaultAlertPolicy, PolicySettings
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.retry import RetrySettings, with_retries
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)
from custom_components.homesec.engine.storage.local import LocalStorage

from .pipeline_parts import RecordingNotifier, run_blocking


async def test_retries_back_off_exponentially_and_stop() -> None:
    """A failing operation is tried max_attempts times with doubling delays."""
    # Given an operation that always fails and a recording sleep
    slept: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise TimeoutError("still down")

    settings = RetrySettings(max_attempts=5, initial_delay=2, max_delay=10)

    # When it runs with retries, then the last error is raised
    with pytest.raises(TimeoutError, match="still down"):
        await with_retries(failing, settings, sleep=sleep)

    # Then it ran five times with 2, 4, 8 and then capped 10 s between tries
    assert calls == 5
    assert slept == [2, 4, 8, 10]


class SlowDetector(ObjectDetector):
    """Counts how many detections run at once."""

    def __init__(self) -> None:
        """Start idle."""
        self.running = 0
        self.most = 0

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Take a little while."""
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(0.02)
        self.running -= 1
        return FilterResult(
            detected_classes=["motion"], confidence=1, frames_sampled=1, model="slow"
        )


def _clips(folder: Path, count: int) -> list[Clip]:
    """``count`` one-byte clip files of camera "cam"."""
    clips = []
    for index in range(count):
        path = folder / f"cam_{index}.mp4"
        path.write_bytes(b"x")
        clips.append(
            Clip(
                clip_id=path.stem,
                camera_name="cam",
                local_path=path,
                start_ts=datetime.now(UTC),
                source_type="test",
            )
        )
    return clips


async def test_semaphores_bound_clips_and_detections(tmp_path: Path) -> None:
    """A burst of 20 clips queues: at most N detections run at once."""
    # Given a pipeline allowing 3 clips and 2 detections at once
    detector = SlowDetector()
    notifier = RecordingNotifier("phone")
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    pipeline = ClipPipeline(
        storage=LocalStorage(tmp_path / "clips", run_blocking),
        detector=detector,
        analyzer=None,
        policy=DefaultAlertPolicy(PolicySettings(notify_on_motion=True)),
        notifiers=[notifier],
        repository=repository,
        settings=PipelineSettings(max_clips_in_flight=3, max_detections=2),
    )
    clips = _clips(tmp_path, 20)

    # When all arrive at once
    for clip in clips:
        await pipeline.submit(clip)
    await pipeline.drain()

    # Then all were alerted, never more than two detections at a time
    assert len(notifier.alerts) == 20
    assert detector.most == 2
    await repository.close()


async def test_sqlite_uses_wal(tmp_path: Path) -> None:
    """The embedded SQLite store runs in write-ahead-log mode."""
    # Given a started SQLite store
    store = SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db"))
    await store.start()
    await store.close()

    # When the database file's journal mode is read
    def journal_mode() -> str:
        with closing(sqlite3.connect(tmp_path / "s.db")) as conn:
            return str(conn.execute("PRAGMA journal_mode").fetchone()[0])

    # Then it is WAL
    assert await run_blocking(journal_mode) == "wal"


class PersonDetector(ObjectDetector):
    """Finds a person in every clip, at once."""

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """A person."""
        return FilterResult(
            detected_classes=["person"], confidence=0.9, frames_sampled=1, model="p"
        )


class HeldAnalyzer(Analyzer):
    """A model that answers only once the test lets it."""

    def __init__(self) -> None:
        """Hold every call."""
        self.gate = asyncio.Event()
        self.calls = 0

    async def analyze(self, clip: Clip, detections: FilterResult) -> AnalysisResult:
        """Wait for the gate, then summarize."""
        self.calls += 1
        await self.gate.wait()
        return AnalysisResult(
            risk_level=RiskLevel.HIGH, activity_type="visitor", summary="s"
        )


async def test_a_slow_model_does_not_stop_newer_clips_being_detected(
    tmp_path: Path,
) -> None:
    """With every summary held, clips beyond the clip limit are still detected."""
    # Given a pipeline (4 clips, 2 analyses at once) whose model does not answer
    analyzer = HeldAnalyzer()
    detected: list[str] = []
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    pipeline = ClipPipeline(
        storage=LocalStorage(tmp_path / "clips", run_blocking),
        detector=PersonDetector(),
        analyzer=analyzer,
        policy=DefaultAlertPolicy(PolicySettings()),
        notifiers=[RecordingNotifier("phone")],
        repository=repository,
        listener=lambda event: (
            detected.append(event.clip.clip_id)
            if isinstance(event, ClipDetected)
            else None
        ),
        settings=PipelineSettings(max_clips_in_flight=4, max_analyses=2),
    )
    clips = _clips(tmp_path, 7)

    # When seven person clips arrive while the model holds every call
    for clip in clips:
        await pipeline.submit(clip)
    async with asyncio.timeout(30):  # a bound for failure, not a measurement
        while len(detected) < len(clips):
            await asyncio.sleep(0.01)
    held_calls = analyzer.calls
    analyzer.gate.set()
    await pipeline.drain()
    await repository.close()

    # Then all seven were detected while the model was held (two asked at once),
    # and each was summarized once it answered
    assert sorted(detected) == sorted(clip.clip_id for clip in clips)
    assert held_calls == 2
    assert analyzer.calls == 7
