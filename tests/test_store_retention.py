"""Stored copies get their own retention: oldest first, clips with an alert kept
longer, nothing deleted while a store is down, every deletion in the history."""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
import sqlite3

from custom_components.homesec.builder import store_retention
from custom_components.homesec.engine.interfaces import Storage
from custom_components.homesec.engine.models import (
    AlertDecision,
    Clip,
    ClipState,
    ClipStatus,
    Stage,
    StageStatus,
)
from custom_components.homesec.engine.recovery import find_unstored
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.retention import (
    RetentionSettings,
    apply_retention,
)
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
from custom_components.homesec.engine.store_retention import (
    StoreRetentionSettings,
    apply_store_retention,
)
from custom_components.homesec.settings import HubSettings

from .doubles.dropbox_api import DropboxDouble
from .pipeline_parts import run_blocking

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MB = 1024**2
CAMERA = "front_door"


def clip_id(days_old: float, camera: str = CAMERA) -> str:
    """The id a clip recorded ``days_old`` days before NOW carries."""
    return f"{camera}_{NOW - timedelta(days=days_old):%Y%m%d_%H%M%S}"


@dataclass
class Stored:
    """A clip spooled, stored and finished (with or without an alert)."""

    clip: Clip
    uri: str


async def store_clip(
    spool: Spool,
    storage: Storage,
    repository: ClipRepository,
    days_old: float,
    *,
    size: int = MB,
    alerted: bool = False,
    finished: bool = True,
) -> Stored:
    """Given: a clip of ``size`` bytes recorded ``days_old`` days ago, stored."""
    cid = clip_id(days_old)
    path = spool.camera_dir(CAMERA) / f"{cid}.mp4"
    await run_blocking(path.parent.mkdir, 0o777, True, True)
    await run_blocking(path.write_bytes, bytes(size))
    clip = Clip(
        clip_id=cid,
        camera_name=CAMERA,
        local_path=path,
        start_ts=NOW - timedelta(days=days_old),
        source_type="folder",
    )
    outcome = await storage.put(clip)
    state = ClipState.for_clip(clip)
    state.status = ClipStatus.DONE if finished else ClipStatus.PROCESSING
    state.stages[Stage.UPLOAD].status = StageStatus.DONE
    state.storage_uri = outcome.storage_uri
    state.view_url = outcome.view_url
    if alerted:
        state.decision = AlertDecision(notify=True, reason="person")
        state.delivered = ["phone"]
    await repository.save(state)
    return Stored(clip, outcome.storage_uri)


def deleted_events(database: Path) -> list[tuple[str, str]]:
    """(clip id, detail) of every clip_deleted event."""
    with closing(sqlite3.connect(database)) as conn:
        rows = conn.execute(
            "SELECT clip_id, detail FROM clip_events "
            "WHERE event_type = 'clip_deleted' ORDER BY id"
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


async def stored_names(storage: Storage) -> set[str]:
    """The clip ids the storage holds."""
    return {copy.clip_id for copy in await storage.stored()}


async def test_age_limit_deletes_old_clips_and_keeps_alerted_ones_longer(
    tmp_path: Path,
) -> None:
    """Clips past 90 days go; with an alert they stay until 180 days."""
    # Given a local store with clips of 200, 120 and 10 days, with and without alert
    spool = Spool(tmp_path / "spool")
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    database = tmp_path / "s.db"
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(database)))
    very_old_alert = await store_clip(spool, storage, repository, 200, alerted=True)
    old_alert = await store_clip(spool, storage, repository, 120, alerted=True)
    old = await store_clip(spool, storage, repository, 121)
    recent = await store_clip(spool, storage, repository, 10)
    recent_alert = await store_clip(spool, storage, repository, 10.5, alerted=True)

    # When retention runs with 90 days, 180 days for clips with an alert
    plan = await apply_store_retention(
        storage,
        repository,
        StoreRetentionSettings(
            max_bytes=None,
            max_age=timedelta(days=90),
            alerted_max_age=timedelta(days=180),
        ),
        run_blocking,
        NOW,
    )

    # Then exactly the old clip without alert and the alert older than 180 days go
    gone = {very_old_alert.clip.clip_id, old.clip.clip_id}
    assert {copy.clip_id for copy in plan.delete} == gone
    assert await stored_names(storage) == {
        old_alert.clip.clip_id,
        recent.clip.clip_id,
        recent_alert.clip.clip_id,
    }
    # And their states no longer point at a deleted copy; the others still do
    states = await repository.get_many(
        [very_old_alert.clip.clip_id, old.clip.clip_id, old_alert.clip.clip_id]
    )
    assert states is not None
    for cid in gone:
        assert states[cid].storage_uri is None
        assert states[cid].view_url is None
        assert states[cid].storage_deleted_at == NOW
    assert states[old_alert.clip.clip_id].storage_uri == old_alert.uri
    # And each deletion is in the history
    await repository.flush()
    events = await run_blocking(deleted_events, database)
    assert [cid for cid, _ in events] == [
        very_old_alert.clip.clip_id,
        old.clip.clip_id,
    ]
    assert '"copy": "storage"' in events[0][1]
    assert '"reason": "retention_age"' in events[0][1]
    await repository.close()


async def test_size_limit_deletes_oldest_without_alert_first(tmp_path: Path) -> None:
    """Over the size limit the oldest clips without an alert go, then alerted ones."""
    # Given five 1 MB stored clips: the two oldest had an alert
    spool = Spool(tmp_path / "spool")
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    alert_5 = await store_clip(spool, storage, repository, 5, alerted=True)
    alert_4 = await store_clip(spool, storage, repository, 4, alerted=True)
    plain_3 = await store_clip(spool, storage, repository, 3)
    plain_2 = await store_clip(spool, storage, repository, 2)
    plain_1 = await store_clip(spool, storage, repository, 1)
    limits = StoreRetentionSettings(max_bytes=3 * MB, max_age=None)

    # When retention keeps the store within 3 MB
    plan = await apply_store_retention(storage, repository, limits, run_blocking, NOW)

    # Then the two oldest clips without an alert went, not the older alerted ones
    assert [c.clip_id for c in plan.delete] == [
        plain_3.clip.clip_id,
        plain_2.clip.clip_id,
    ]
    assert plan.remaining_bytes == 3 * MB

    # When the limit drops to 1 MB
    smaller = StoreRetentionSettings(max_bytes=1 * MB, max_age=None)
    plan = await apply_store_retention(storage, repository, smaller, run_blocking, NOW)

    # Then the last clip without an alert goes, then the oldest alerted one
    assert [c.clip_id for c in plan.delete] == [
        plain_1.clip.clip_id,
        alert_5.clip.clip_id,
    ]
    assert await stored_names(storage) == {alert_4.clip.clip_id}
    await repository.close()


async def test_clip_still_processing_is_never_deleted(tmp_path: Path) -> None:
    """A stored clip whose processing has not finished (or is queued) stays."""
    # Given an old clip still processing, an old queued one and an old finished one
    spool = Spool(tmp_path / "spool")
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    processing = await store_clip(spool, storage, repository, 300, finished=False)
    queued = await store_clip(spool, storage, repository, 299)
    finished = await store_clip(spool, storage, repository, 298)

    # When retention with tiny limits runs while the second is queued again
    plan = await apply_store_retention(
        storage,
        repository,
        StoreRetentionSettings(max_bytes=0, max_age=timedelta(days=1)),
        run_blocking,
        NOW,
        busy=lambda cid: cid == queued.clip.clip_id,
    )

    # Then only the finished clip is deleted
    assert [c.clip_id for c in plan.delete] == [finished.clip.clip_id]
    assert await stored_names(storage) == {
        processing.clip.clip_id,
        queued.clip.clip_id,
    }
    await repository.close()


async def test_nothing_deleted_while_the_state_store_is_down(tmp_path: Path) -> None:
    """Without the clips' states nothing is deleted; the next pass does it."""
    # Given an old stored clip, and a state store that cannot be reached (its
    # database lies under a file, not a folder)
    spool = Spool(tmp_path / "spool")
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    old = await store_clip(spool, storage, repository, 200)
    await repository.flush()
    blocker = tmp_path / "not_a_folder"
    await run_blocking(blocker.write_bytes, b"")
    unreachable = ClipRepository(
        SQLAlchemyStateStore(sqlite_url(blocker / "s.db")), retry_interval=0
    )
    limits = StoreRetentionSettings(max_bytes=0, max_age=timedelta(days=1))

    # When retention runs
    down = await apply_store_retention(storage, unreachable, limits, run_blocking, NOW)
    await unreachable.close()

    # Then nothing is deleted and the pass says why
    assert down.unreachable == "state store"
    assert down.delete == []
    assert await stored_names(storage) == {old.clip.clip_id}

    # When the store is back and retention runs again
    back = await apply_store_retention(storage, repository, limits, run_blocking, NOW)

    # Then the clip goes
    assert [c.clip_id for c in back.delete] == [old.clip.clip_id]
    await repository.close()


async def test_spool_retention_records_deletions_and_takes_clips_whose_copy_expired(
    tmp_path: Path,
) -> None:
    """Spool deletions are in the history; a clip whose stored copy retention
    deleted is neither uploaded again nor kept in the spool for ever."""
    # Given two old stored clips, one of whose stored copy retention deleted
    spool = Spool(tmp_path / "spool")
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    database = tmp_path / "s.db"
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(database)))
    expired = await store_clip(spool, storage, repository, 120)
    kept = await store_clip(spool, storage, repository, 20)
    await apply_store_retention(
        storage,
        repository,
        StoreRetentionSettings(max_bytes=None, max_age=timedelta(days=90)),
        run_blocking,
        NOW,
    )
    assert await stored_names(storage) == {kept.clip.clip_id}

    # When the clips that failed to upload are looked for
    unstored = await find_unstored(spool, repository, run_blocking)

    # Then the clip whose stored copy expired is not uploaded again
    assert unstored == []

    # When the spool's retention keeps at most 1 MB
    plan = await apply_retention(
        spool,
        repository,
        RetentionSettings(max_bytes=MB, max_age=None),
        run_blocking,
        NOW,
    )

    # Then the older clip leaves the spool, and the deletion is in its history
    assert plan.delete == [expired.clip.clip_id]
    await repository.flush()
    events = await run_blocking(deleted_events, database)
    assert [cid for cid, _ in events] == [expired.clip.clip_id] * 2
    assert '"copy": "spool"' in events[1][1]
    await repository.close()


def make_dropbox(double: DropboxDouble) -> DropboxStorage:
    """Dropbox storage on the double, refresh-token authentication."""
    return DropboxStorage(
        DropboxSettings(
            root="/HomeSec",
            refresh_token=double.state.refresh_token,
            app_key=double.state.app_key,
            app_secret=double.state.app_secret,
        ),
        run_blocking,
        double.session,
    )


async def test_dropbox_retention_over_paged_listing(
    tmp_path: Path, double: DropboxDouble
) -> None:
    """Dropbox copies are listed over several pages and deleted oldest first."""
    # Given seven clips stored in Dropbox (listed three per page), and a file
    # elsewhere in Dropbox that is not HomeSec's
    spool = Spool(tmp_path / "spool")
    storage = make_dropbox(double)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    stored = [
        await store_clip(spool, storage, repository, days, size=1000)
        for days in (100, 95, 60, 50, 40, 30, 20)
    ]
    double.state.files["/other/notes.txt"] = ("/Other/notes.txt", b"mine")
    double.state.files["/homesec/readme.txt"] = ("/HomeSec/readme.txt", b"mine")

    # When retention keeps 90 days and 4000 bytes
    plan = await apply_store_retention(
        storage,
        repository,
        StoreRetentionSettings(max_bytes=4000, max_age=timedelta(days=90)),
        run_blocking,
        NOW,
    )

    # Then the two older than 90 days go by age, the next one by size
    assert plan.store_bytes == 7000
    assert [plan.reasons[c.clip_id] for c in plan.delete] == ["age", "age", "size"]
    assert [c.clip_id for c in plan.delete] == [s.clip.clip_id for s in stored[:3]]
    assert await stored_names(storage) == {s.clip.clip_id for s in stored[3:]}
    # And the other files were not touched
    assert "/other/notes.txt" in double.state.files
    assert "/homesec/readme.txt" in double.state.files
    # And the deleted clips' states lose their Dropbox link
    state = await repository.get(stored[0].clip.clip_id)
    assert state is not None
    assert state.storage_uri is None
    assert state.view_url is None
    await storage.close()
    await repository.close()


async def test_dropbox_down_deletes_nothing(
    tmp_path: Path, double: DropboxDouble
) -> None:
    """While Dropbox does not answer, nothing is deleted; the next pass does it."""
    # Given an old clip in Dropbox, and Dropbox then going down
    spool = Spool(tmp_path / "spool")
    storage = make_dropbox(double)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    old = await store_clip(spool, storage, repository, 200, size=1000)
    double.state.fail_all = True
    limits = StoreRetentionSettings(max_bytes=None, max_age=timedelta(days=90))

    # When retention runs
    down = await apply_store_retention(storage, repository, limits, run_blocking, NOW)

    # Then nothing is deleted and the state still links the copy
    assert down.unreachable is not None
    assert down.delete == []
    state = await repository.get(old.clip.clip_id)
    assert state is not None
    assert state.storage_uri == old.uri

    # When Dropbox is back
    double.state.fail_all = False
    back = await apply_store_retention(storage, repository, limits, run_blocking, NOW)

    # Then the clip goes
    assert [c.clip_id for c in back.delete] == [old.clip.clip_id]
    assert old.uri.removeprefix("dropbox:").lower() not in double.state.files
    await storage.close()
    await repository.close()


def test_defaults_trim_local_store_and_leave_dropbox_alone() -> None:
    """The local store is bounded by default; Dropbox only when the user says so."""
    # Given the hub's defaults with local storage, with Dropbox, and with Dropbox
    # plus its retention turned on
    local = HubSettings()
    dropbox = HubSettings(storage_type="dropbox")
    dropbox_on = HubSettings(storage_type="dropbox", dropbox_retention=True)

    # When the builder turns them into limits
    limits = store_retention(local)

    # Then the local store keeps 20 GB and 90 days, 180 with an alert
    assert limits == StoreRetentionSettings(
        max_bytes=20 * 1024**3,
        max_age=timedelta(days=90),
        alerted_max_age=timedelta(days=180),
    )
    # And Dropbox is never trimmed unless turned on, then with the same limits
    assert store_retention(dropbox) is None
    assert store_retention(dropbox_on) == limits


async def test_copies_without_history_and_partial_files(tmp_path: Path) -> None:
    """A stored clip HomeSec has no history of counts as alerted (kept longest);
    a copy still being written is neither listed nor deleted."""
    # Given a 120-day-old stored clip whose history is gone, and a partial copy
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    folder = tmp_path / "clips" / CAMERA
    await run_blocking(folder.mkdir, 0o777, True)
    unknown = folder / f"{clip_id(120)}.mp4"
    partial = folder / f".{clip_id(1)}.mp4.partial"
    await run_blocking(unknown.write_bytes, bytes(1000))
    await run_blocking(partial.write_bytes, bytes(1000))

    # When retention keeps 90 days (180 with an alert)
    plan = await apply_store_retention(
        storage,
        repository,
        StoreRetentionSettings(max_bytes=None, max_age=timedelta(days=90)),
        run_blocking,
        NOW,
    )

    # Then the clip without history is kept, and the partial copy is not counted
    assert plan.delete == []
    assert plan.store_bytes == 1000
    assert await stored_names(storage) == {clip_id(120)}

    # When the size limit is 0
    plan = await apply_store_retention(
        storage,
        repository,
        StoreRetentionSettings(max_bytes=0, max_age=None),
        run_blocking,
        NOW,
    )

    # Then the clip goes by size, and the partial copy stays
    assert [copy.clip_id for copy in plan.delete] == [clip_id(120)]
    assert await run_blocking(partial.exists)
    await repository.close()


async def test_dropbox_refusing_deletions_keeps_clips_and_links(
    tmp_path: Path, double: DropboxDouble
) -> None:
    """A deletion Dropbox refuses leaves the clip, its link and its history as
    they were; the pass stops and the next one deletes it."""
    # Given two old clips in Dropbox, which lists but refuses to delete
    spool = Spool(tmp_path / "spool")
    storage = make_dropbox(double)
    database = tmp_path / "s.db"
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(database)))
    old = [
        await store_clip(spool, storage, repository, days, size=1000)
        for days in (200, 199)
    ]
    double.state.fail_routes.add("/2/files/delete_v2")
    limits = StoreRetentionSettings(max_bytes=None, max_age=timedelta(days=90))

    # When retention runs
    refused = await apply_store_retention(
        storage, repository, limits, run_blocking, NOW
    )

    # Then the pass stopped at the first refusal: nothing is deleted, the links
    # stay and no deletion is recorded
    deletes = [path for _, path in double.state.requests if path.endswith("delete_v2")]
    assert len(deletes) == 1
    assert refused.delete == []
    assert refused.unreachable is not None
    assert await stored_names(storage) == {s.clip.clip_id for s in old}
    state = await repository.get(old[0].clip.clip_id)
    assert state is not None
    assert state.storage_uri == old[0].uri
    await repository.flush()
    assert await run_blocking(deleted_events, database) == []

    # When Dropbox deletes again
    double.state.fail_routes.clear()
    back = await apply_store_retention(storage, repository, limits, run_blocking, NOW)

    # Then both go
    assert len(back.delete) == 2
    await storage.close()
    await repository.close()
