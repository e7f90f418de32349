"""Building blocks for engine pipeline tests: real stages, recording notifiers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
import shutil

from custom_components.homesec.engine.detect.motion import (
    MotionDetector,
    MotionSettings,
)
from custom_components.homesec.engine.interfaces import Notifier, Storage
from custom_components.homesec.engine.models import Alert, Clip, UploadOutcome
from custom_components.homesec.engine.pipeline import ClipPipeline, PipelineSettings
from custom_components.homesec.engine.policy import DefaultAlertPolicy, PolicySettings
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.retry import RetrySettings
from custom_components.homesec.engine.spool import Spool


async def run_blocking[T](target: Callable[..., T], *args: object) -> T:
    """Run blocking work in a thread, as Home Assistant's executor does."""
    return await asyncio.to_thread(target, *args)


async def no_sleep(_: float) -> None:
    """Retry backoff that does not wait (the delays are checked separately)."""


class RecordingNotifier(Notifier):
    """Keeps every alert it was given."""

    def __init__(self, name: str) -> None:
        """Name the notifier."""
        self.name = name
        self.alerts: list[Alert] = []

    async def notify(self, alert: Alert) -> None:
        """Record the alert."""
        self.alerts.append(alert)

    def count(self) -> Counter[str]:
        """How many alerts each clip got."""
        return Counter(alert.clip_id for alert in self.alerts)


class FailingNotifier(Notifier):
    """Always fails, counting attempts."""

    def __init__(self, name: str = "broken") -> None:
        """Name the notifier."""
        self.name = name
        self.attempts = 0

    async def notify(self, alert: Alert) -> None:
        """Fail."""
        self.attempts += 1
        raise ConnectionError("notification service is down")


class CountingStorage(Storage):
    """Wraps a real storage and counts puts per clip."""

    def __init__(self, inner: Storage) -> None:
        """Wrap ``inner``."""
        self.inner = inner
        self.puts: Counter[str] = Counter()

    async def put(self, clip: Clip) -> UploadOutcome:
        """Count, then store."""
        self.puts[clip.clip_id] += 1
        return await self.inner.put(clip)

    async def ping(self) -> bool:
        """Ask the wrapped storage."""
        return await self.inner.ping()


def spool_clips(
    spool: Spool, source: Path, count: int, camera: str = "front_door"
) -> list[Clip]:
    """Copy ``source`` into the spool ``count`` times, a minute apart."""
    clips = []
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    for index in range(count):
        incoming = spool.root.parent / f"incoming_{index}.mp4"
        incoming.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, incoming)
        clips.append(
            spool.adopt(incoming, camera, "folder", start + timedelta(minutes=index))
        )
    return clips


def make_pipeline(
    repository: ClipRepository,
    storage: Storage,
    notifiers: Sequence[Notifier],
    *,
    attempts: int = 3,
) -> ClipPipeline:
    """A pipeline with the real motion detector that notifies on motion."""
    retry = RetrySettings(max_attempts=attempts, initial_delay=0.01)
    return ClipPipeline(
        storage=storage,
        detector=MotionDetector(MotionSettings(), run_blocking),
        analyzer=None,
        policy=DefaultAlertPolicy(PolicySettings(notify_on_motion=True)),
        notifiers=notifiers,
        repository=repository,
        settings=PipelineSettings(
            upload_retry=retry, analyze_retry=retry, notify_retry=retry
        ),
        sleep=no_sleep,
    )
