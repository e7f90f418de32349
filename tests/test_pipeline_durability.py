"""The pipeline keeps clips and alerts flowing through store, storage and notifier
outages, with real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from custom_components.homesec.engine import outputs as outputs_module
from custom_components.homesec.engine.errors import StateStoreError
from custom_components.homesec.engine.models import (
    Alert,
    Clip,
    ClipState,
    ClipStatus,
    Stage,
    StageStatus,
)
from custom_components.homesec.engine.pending_journal import PendingJournal
from custom_components.homesec.engine.pipeline import ClipPipeline
from custom_components.homesec.engine.recovery import find_unfinished
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)
from custom_components.homesec.engine.storage.dropbox import (
    DropboxSettings,
    DropboxStorage,
)
from custom_components.homesec.engine.storage.local import LocalStorage

from .doubles.dropbox_api import DropboxDouble
from .doubles.tls import make_certificate
from .pipeline_parts import (
    CountingStorage,
    FailingNotifier,
    RecordingNotifier,
    make_pipeline,
    run_blocking,
    spool_clips,
)
from .servers import Postgres


async def test_postgres_outage_keeps_clips_and_alerts_flowing(
    postgres_server: Postgres,
    postgres_dsn: str,
    tmp_path: Path,
    motion_clip: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With Postgres stopped mid-run, alerts go on; states are saved once it's back."""
    # Given a pipeline recording to Postgres, and six spooled clips
    store = SQLAlchemyStateStore(postgres_dsn)
    repository = ClipRepository(store, retry_interval=0.2)
    notifier = RecordingNotifier("phone")
    spool = Spool(tmp_path / "spool")
    clips = await run_blocking(spool_clips, spool, motion_clip, 6)
    pipeline = make_pipeline(
        repository, LocalStorage(tmp_path / "clips", run_blocking), [notifier]
    )
    assert await repository.start()
    for clip in clips[:2]:
        await pipeline.process(clip)

    try:
        # When Postgres stops and more clips arrive
        await run_blocking(postgres_server.stop)
        for clip in clips[2:5]:
            await pipeline.process(clip)

        # Then they are processed and alerted all the same, and the store is down
        assert notifier.count() == dict.fromkeys((c.clip_id for c in clips[:5]), 1)
        assert not await repository.flush()
        assert not repository.healthy
        assert repository.pending > 0
    finally:
        # When Postgres comes back
        await run_blocking(postgres_server.start)
    await asyncio.sleep(0.3)  # past the repository's retry interval
    await pipeline.process(clips[5])
    assert await repository.flush()

    # Then the pending writes were saved: every clip is done in Postgres
    assert repository.healthy
    assert repository.pending == 0
    states = await store.get_states([clip.clip_id for clip in clips])
    assert {cid: s.status for cid, s in states.items()} == dict.fromkeys(
        (clip.clip_id for clip in clips), ClipStatus.DONE
    )
    # Then the outage was logged once as an error and once when it ended
    records = [r for r in caplog.records if r.name.endswith("engine.repository")]
    assert [r.levelno for r in records] == [logging.ERROR, logging.INFO]
    assert "postgres@" not in caplog.text.split("State store unavailable")[1][:300]
    await repository.close()


async def test_storage_outage_gives_alerts_with_upload_failed(
    tmp_path: Path, motion_clip: Path, socket_enabled: None
) -> None:
    """When Dropbox fails, the alert still goes out, marked upload_failed."""
    # Given Dropbox (the SDK against the API double) failing every upload
    cert, key = make_certificate(tmp_path)
    double = DropboxDouble(cert, key)
    double.start()
    double.state.fail_uploads = True
    storage = DropboxStorage(
        DropboxSettings(refresh_token="refresh-token", app_key="app-key"),
        run_blocking,
        double.session,
    )
    notifier = RecordingNotifier("phone")
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    pipeline = make_pipeline(repository, storage, [notifier], attempts=2)
    (clip,) = await run_blocking(spool_clips, Spool(tmp_path / "spool"), motion_clip, 1)

    # When the clip is processed
    state = await pipeline.process(clip)
    await storage.close()
    double.stop()

    # Then the alert went out without a link, after two upload attempts
    (alert,) = notifier.alerts
    assert alert.upload_failed is True
    assert alert.storage_uri is None
    assert state.stages[Stage.UPLOAD].status is StageStatus.FAILED
    assert state.stages[Stage.UPLOAD].attempts == 2
    assert "ServiceUnavailable" in (state.stages[Stage.UPLOAD].error or "") or (
        "503" in (state.stages[Stage.UPLOAD].error or "")
    )
    assert state.status is ClipStatus.DONE
    assert clip.local_path.exists()
    await repository.close()


async def test_failing_notifier_does_not_stop_the_others(
    tmp_path: Path, motion_clip: Path
) -> None:
    """One notifier failing every attempt leaves the others delivered."""
    # Given a broken notifier between two working ones
    first, second = RecordingNotifier("first"), RecordingNotifier("second")
    broken = FailingNotifier()
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    pipeline = make_pipeline(
        repository,
        LocalStorage(tmp_path / "clips", run_blocking),
        [first, broken, second],
        attempts=3,
    )
    (clip,) = await run_blocking(spool_clips, Spool(tmp_path / "spool"), motion_clip, 1)

    # When the clip is processed
    state = await pipeline.process(clip)

    # Then both working notifiers delivered, the broken one was tried 3 times
    assert len(first.alerts) == len(second.alerts) == 1
    assert broken.attempts == 3
    assert state.delivered == ["first", "second"]
    assert state.stages[Stage.NOTIFY].status is StageStatus.FAILED
    assert "notification service is down" in (state.stages[Stage.NOTIFY].error or "")
    saved = await repository.get(clip.clip_id)
    assert saved is not None
    assert saved.delivered == ["first", "second"]
    await repository.close()


async def test_newer_schema_is_refused_and_current_one_reopens(
    tmp_path: Path,
) -> None:
    """A database from a newer HomeSec is not touched; the current one reopens."""
    # Given a database created by this version
    url = sqlite_url(tmp_path / "s.db")
    store = SQLAlchemyStateStore(url)
    await store.start()
    await store.close()

    # When it is opened again, then it starts
    again = SQLAlchemyStateStore(url)
    await again.start()

    # When its version is newer than this code, then start refuses it
    async with again.engine.begin() as conn:
        await conn.execute(text("UPDATE homesec_schema SET version = 99"))
    await again.close()
    newer = SQLAlchemyStateStore(url)
    with pytest.raises(StateStoreError, match="newer than this HomeSec"):
        await newer.start()
    await newer.close()


async def test_counting_storage_counts(tmp_path: Path, motion_clip: Path) -> None:
    """The counting wrapper used by the recovery tests counts each put."""
    # Given a counting local storage
    storage = CountingStorage(LocalStorage(tmp_path / "clips", run_blocking))
    (clip,) = await run_blocking(spool_clips, Spool(tmp_path / "spool"), motion_clip, 1)

    # When a clip is stored twice
    await storage.put(clip)
    await storage.put(clip)

    # Then both puts were counted and the copy exists
    assert storage.puts[clip.clip_id] == 2
    assert (tmp_path / "clips" / "front_door" / clip.local_path.name).exists()


async def _one_clip_on_sqlite(
    tmp_path: Path, motion_clip: Path
) -> tuple[Clip, str, ClipRepository, LocalStorage]:
    """A spooled clip, a started repository on SQLite and a local storage."""
    spool = Spool(tmp_path / "spool")
    [clip] = await run_blocking(spool_clips, spool, motion_clip, 1)
    url = sqlite_url(tmp_path / "state.db")
    repository = ClipRepository(SQLAlchemyStateStore(url))
    assert await repository.start()
    return clip, url, repository, LocalStorage(tmp_path / "clips", run_blocking)


async def _restart(
    pipeline: ClipPipeline, repository: ClipRepository, url: str, clip: Clip
) -> tuple[ClipRepository, ClipState]:
    """Stop HomeSec, start it again: the new repository and the clip's state."""
    await pipeline.stop()
    await repository.close()
    repository = ClipRepository(SQLAlchemyStateStore(url))
    assert await repository.start()
    state = await repository.get(clip.clip_id)
    assert state is not None
    return repository, state


class _HangingNotifier(RecordingNotifier):
    """Takes alerts only once released; until then its delivery hangs."""

    def __init__(self, name: str) -> None:
        """Name the notifier; it hangs until ``released`` is set."""
        super().__init__(name)
        self.released = asyncio.Event()

    async def notify(self, alert: Alert) -> None:
        """Wait to be released, then record the alert."""
        await self.released.wait()
        await super().notify(alert)


async def test_restart_while_one_output_retries_sends_no_second_alert(
    tmp_path: Path, motion_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outputs that delivered are saved at once, not when the slowest is done."""
    monkeypatch.setattr(outputs_module, "LANDING_GRACE", 0.05)  # the siren hangs
    # Given a pipeline on SQLite whose phone takes alerts and whose siren hangs
    clip, url, repository, storage = await _one_clip_on_sqlite(tmp_path, motion_clip)
    phone, siren = RecordingNotifier("phone"), _HangingNotifier("siren")
    pipeline = make_pipeline(repository, storage, [phone, siren])
    await pipeline.submit(clip)
    while not phone.alerts:
        await asyncio.sleep(0.01)

    # When Home Assistant restarts before the siren took the alert
    repository, state = await _restart(pipeline, repository, url, clip)
    phone_again, siren_again = RecordingNotifier("phone"), RecordingNotifier("siren")
    resumed = make_pipeline(repository, storage, [phone_again, siren_again])
    await resumed.process(clip, state)
    await repository.close()

    # Then only the siren gets the alert after the restart
    assert phone_again.count() == {}
    assert siren_again.count() == {clip.clip_id: 1}


async def test_writes_pending_at_a_stop_during_an_outage_are_kept(
    postgres_server: Postgres, postgres_dsn: str, tmp_path: Path, motion_clip: Path
) -> None:
    """A restart while the database is down forgets no delivered alert."""
    # Given a repository with a journal, a clip whose alert went to the phone
    # while Postgres was stopped
    journal = PendingJournal(tmp_path / "pending.json", run_blocking)
    repository = ClipRepository(SQLAlchemyStateStore(postgres_dsn), journal=journal)
    assert await repository.start()
    spool = Spool(tmp_path / "spool")
    [clip] = await run_blocking(spool_clips, spool, motion_clip, 1)
    phone = RecordingNotifier("phone")
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    try:
        await run_blocking(postgres_server.stop)
        await make_pipeline(repository, storage, [phone]).process(clip)
        assert phone.count() == {clip.clip_id: 1}

        # When HomeSec stops before the database is back, and starts after it is
        await repository.close()
    finally:
        await run_blocking(postgres_server.start)
    repository = ClipRepository(SQLAlchemyStateStore(postgres_dsn), journal=journal)
    assert await repository.start()
    state = await repository.get(clip.clip_id)

    # Then the clip is finished with its alert delivered, nothing is sent
    # again, and the journal is gone once written
    assert state is not None
    assert state.finished
    assert state.delivered == ["phone"]
    assert not await run_blocking((tmp_path / "pending.json").exists)
    assert await find_unfinished(spool, repository, run_blocking) == []
    await repository.close()


class _LeakyNotifier(RecordingNotifier):
    """Fails with the message a webhook client gives: its URL, token included."""

    async def notify(self, alert: Alert) -> None:
        """Fail, quoting the URL."""
        msg = "503 from https://hooks.example/alert?token=SECRET-TOKEN"
        raise ConnectionError(msg)


async def test_a_failing_notifier_is_logged_and_recorded_without_secrets(
    tmp_path: Path, motion_clip: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A notifier's error quoting its URL loses the token in logs and history."""
    # Given a pipeline whose webhook fails with its URL in the message
    caplog.set_level(logging.DEBUG)
    spool = Spool(tmp_path / "spool")
    [clip] = await run_blocking(spool_clips, spool, motion_clip, 1)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    pipeline = make_pipeline(repository, storage, [_LeakyNotifier("webhook")])

    # When a clip is alerted
    state = await pipeline.process(clip)
    await repository.close()

    # Then the failure is logged and recorded, never with the token
    assert "webhook" in caplog.text
    assert "SECRET-TOKEN" not in caplog.text
    assert state.stages[Stage.NOTIFY].error is not None
    assert "SECRET-TOKEN" not in state.stages[Stage.NOTIFY].error


class _SlowAnswerNotifier(RecordingNotifier):
    """Takes the alert at once, but its answer comes back a moment later."""

    def __init__(self, name: str) -> None:
        """Name the notifier."""
        super().__init__(name)
        self.taken = asyncio.Event()

    async def notify(self, alert: Alert) -> None:
        """Take the alert, then answer slowly."""
        self.alerts.append(alert)
        self.taken.set()
        await asyncio.sleep(0.3)


async def test_a_stop_while_an_output_answers_records_its_delivery(
    tmp_path: Path, motion_clip: Path
) -> None:
    """A delivery in flight at a stop lands and is recorded: no second alert."""
    # Given a pipeline on SQLite whose webhook has taken an alert and not answered
    clip, url, repository, storage = await _one_clip_on_sqlite(tmp_path, motion_clip)
    webhook = _SlowAnswerNotifier("webhook")
    pipeline = make_pipeline(repository, storage, [webhook])
    await pipeline.submit(clip)
    await webhook.taken.wait()

    # When HomeSec stops, and resumes the clip after its start
    repository, state = await _restart(pipeline, repository, url, clip)
    again = RecordingNotifier("webhook")
    await make_pipeline(repository, storage, [again]).process(clip, state)
    await repository.close()

    # Then the webhook had the alert once
    assert webhook.count() == {clip.clip_id: 1}
    assert again.count() == {}


@pytest.mark.parametrize("when", ["in flight at the listing", "started after it"])
async def test_a_clip_that_ran_while_recovery_listed_it_is_not_run_again(
    tmp_path: Path, motion_clip: Path, when: str
) -> None:
    """A stale 'unfinished' listing does not send a finished clip's alert again."""
    # Given recovery listing the clips to resume while a clip runs (or starts)
    clip, _, repository, storage = await _one_clip_on_sqlite(tmp_path, motion_clip)
    phone = RecordingNotifier("phone")
    pipeline = make_pipeline(repository, storage, [phone])
    if when == "in flight at the listing":
        await pipeline.submit(clip)
    mark = pipeline.mark()
    listed = ClipState.for_clip(clip)  # what the listing read: not finished
    if when == "started after it":
        await pipeline.submit(clip)

    # When the clip finishes, and recovery then resumes it from its listing
    await pipeline.drain()
    await pipeline.resume(clip, listed, mark)
    await pipeline.drain()
    await repository.close()

    # Then its alert went out once
    assert phone.count() == {clip.clip_id: 1}
