"""The pipeline's clips-in-flight limit, observed on the clips being processed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from custom_components.homesec.engine.interfaces import StateStore, Storage
from custom_components.homesec.engine.models import (
    Clip,
    ClipEvent,
    ClipEventType,
    UploadOutcome,
)
from custom_components.homesec.engine.pipeline import PipelineSettings
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)
from custom_components.homesec.engine.storage.local import LocalStorage

from .pipeline_parts import (
    RecordingNotifier,
    make_pipeline,
    run_blocking,
    spool_clips,
)


class InProcessRepository(ClipRepository):
    """A real repository that also tracks which clips are being read.

    The clip limit bounds the clips being read (uploaded and detected at once):
    a clip is in process from its ``queued`` (or ``resumed``) event until both
    its upload and its detection have an outcome. Later stages have limits of
    their own, so a slow model never holds a clip slot.
    """

    OUTCOMES = (
        {ClipEventType.UPLOADED, ClipEventType.UPLOAD_FAILED},
        {ClipEventType.DETECTED, ClipEventType.DETECT_FAILED},
    )

    def __init__(self, store: StateStore) -> None:
        """Wrap ``store``; nothing is in process yet."""
        super().__init__(store)
        self.in_process: set[str] = set()
        self.most = 0
        self._outcomes: dict[str, set[ClipEventType]] = {}

    async def record(self, event: ClipEvent) -> None:
        """Track the clip, then record the event."""
        kind = event.event_type
        if kind in {ClipEventType.QUEUED, ClipEventType.RESUMED}:
            self.in_process.add(event.clip_id)
            self._outcomes[event.clip_id] = set()
            self.most = max(self.most, len(self.in_process))
        elif event.clip_id in self._outcomes:
            seen = self._outcomes[event.clip_id]
            seen.add(kind)
            if all(seen & outcomes for outcomes in self.OUTCOMES):
                self.in_process.discard(event.clip_id)
                del self._outcomes[event.clip_id]
        await super().record(event)


class GatedStorage(Storage):
    """Holds every upload until ``gate`` opens, then stores for real."""

    def __init__(self, inner: Storage) -> None:
        """Wrap ``inner`` with the gate closed."""
        self.inner = inner
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def put(self, clip: Clip) -> UploadOutcome:
        """Wait for the gate, then store."""
        self.waiting.set()
        await self.gate.wait()
        return await self.inner.put(clip)

    async def ping(self) -> bool:
        """Ask the wrapped storage."""
        return await self.inner.ping()


async def test_no_more_clips_in_process_than_the_limit(
    tmp_path: Path, motion_clip: Path
) -> None:
    """A burst of clips is processed at most max_clips_in_flight at a time."""
    # Given the standard pipeline (default settings) whose uploads are held, and
    # three clips more than it may process at once
    limit = PipelineSettings().max_clips_in_flight
    repository = InProcessRepository(
        SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db"))
    )
    storage = GatedStorage(LocalStorage(tmp_path / "clips", run_blocking))
    notifier = RecordingNotifier("phone")
    pipeline = make_pipeline(repository, storage, [notifier])
    clips = await run_blocking(
        spool_clips, Spool(tmp_path / "spool"), motion_clip, limit + 3
    )

    # When they all arrive while uploads are held
    for clip in clips:
        await pipeline.submit(clip)
    await storage.waiting.wait()
    for _ in range(20):  # every clip that may start gets its turn on the loop
        await asyncio.sleep(0)

    held_in_process = len(repository.in_process)
    held_submitted = pipeline.in_flight

    # When the uploads go through
    storage.gate.set()
    await pipeline.drain()
    await repository.close()

    # Then while uploads were held exactly the limit was in process, the others
    # waiting their turn
    assert (held_in_process, held_submitted) == (limit, limit + 3)
    # Then every clip was alerted, and never more than the limit read at once
    assert notifier.count() == dict.fromkeys((clip.clip_id for clip in clips), 1)
    assert repository.in_process == set()
    assert repository.most == limit
