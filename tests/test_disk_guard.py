"""The free disk guard trims only what is safely stored, and says when to stop
and resume recording. The disk's free space is measured at one seam: a function
returning free bytes, here computed from the real files on a disk of fixed size."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta
from pathlib import Path
import shutil
import sqlite3
import tempfile

from custom_components.homesec.engine.disk_guard import (
    DiskGuardSettings,
    DiskLevel,
    Housekeeping,
    Housekept,
    next_level,
)
from custom_components.homesec.engine.models import ClipStatus, Stage, StageStatus
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.retention import RetentionPlan
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)
from custom_components.homesec.engine.storage.local import LocalStorage
from custom_components.homesec.engine.store_retention import StoreRetentionSettings

from .doubles.dropbox_api import DropboxDouble
from .pipeline_parts import run_blocking
from .test_store_retention import MB, NOW, make_dropbox, store_clip

GUARD = DiskGuardSettings(low_bytes=10 * MB, floor_bytes=4 * MB)


class SmallDisk:
    """A disk of ``size`` bytes holding the files under ``root`` (and ``used``)."""

    def __init__(self, root: Path, size: int, used: int = 0) -> None:
        self.root = root
        self.size = size
        self.used = used
        self.measured: list[Path] = []

    def __call__(self, folder: Path) -> int:
        """Free bytes (blocking, like shutil.disk_usage)."""
        self.measured.append(folder)
        # Clip files only: the spool's hidden list of deleted ids is a few bytes
        files = sum(
            p.stat().st_size
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        return self.size - self.used - files


def deleted(database: Path) -> list[tuple[str, str]]:
    """(clip id, detail) of every clip_deleted event."""
    with closing(sqlite3.connect(database)) as conn:
        return conn.execute(
            "SELECT clip_id, detail FROM clip_events "
            "WHERE event_type = 'clip_deleted' ORDER BY id"
        ).fetchall()


async def test_low_disk_trims_stored_spool_clips_then_stored_clips_without_alert(
    tmp_path: Path,
) -> None:
    """Below the threshold the guard frees what it needs, oldest first, and only
    clips that are stored: spool copies first, then stored clips without alert."""
    # Given a 30 MB disk with the spool and the local store on it, holding:
    # spool: 4 stored and done clips, 1 whose upload failed (the only copy);
    # store: the 4 stored clips, 2 of which (the oldest) had an alert
    spool = Spool(tmp_path / "disk" / "spool")
    storage = LocalStorage(tmp_path / "disk" / "clips", run_blocking)
    database = tmp_path / "s.db"
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(database)))
    alerted = [
        await store_clip(spool, storage, repository, days, size=2 * MB, alerted=True)
        for days in (9, 8)
    ]
    plain = [
        await store_clip(spool, storage, repository, days, size=2 * MB)
        for days in (7, 6)
    ]
    failed = await store_clip(spool, storage, repository, 10, size=2 * MB)
    never_stored = [
        c for c in await storage.stored() if c.clip_id == failed.clip.clip_id
    ]
    await storage.delete_stored(never_stored[0])
    state = await repository.get(failed.clip.clip_id)
    assert state is not None
    state.storage_uri = None
    state.stages[Stage.UPLOAD].status = StageStatus.FAILED
    state.status = ClipStatus.DONE
    await repository.save(state)
    await repository.flush()
    disk = SmallDisk(tmp_path / "disk", size=30 * MB, used=4 * MB)
    keeping = Housekeeping(
        Housekept(spool, storage, repository, tmp_path / "disk" / "clips", run_blocking,
                  lambda _: False),
        StoreRetentionSettings(max_bytes=None, max_age=timedelta(days=90)),
        GUARD,
        free_space=disk,
    )  # fmt: skip
    assert await run_blocking(disk, tmp_path) == 8 * MB  # 30 - 4 - 10 - 8

    # When the guard measures: 8 MB free, 10 MB wanted
    figures = await keeping.retention(NOW, RetentionPlan(spool_bytes=10 * MB))

    # Then the oldest stored spool clip went (2 MB was enough), not the clip
    # whose upload failed although it is older
    spooled = {e.clip_id for e in await run_blocking(spool.entries)}
    assert spooled == {
        failed.clip.clip_id,
        alerted[1].clip.clip_id,
        *(c.clip.clip_id for c in plain),
    }
    assert figures.level is DiskLevel.OK
    assert figures.free_bytes == 10 * MB

    # When 9 MB more is used elsewhere on the disk (1 MB free)
    disk.used += 9 * MB
    figures = await keeping.guard_disks(NOW)

    # Then every stored spool clip went (6 MB), then the stored clips without
    # an alert, oldest first (4 MB); clips with an alert and the unstored clip stay
    spooled = {e.clip_id for e in await run_blocking(spool.entries)}
    assert spooled == {failed.clip.clip_id}
    assert await stored_ids(storage) == {c.clip.clip_id for c in alerted}
    assert figures.free_bytes == 11 * MB
    assert figures.level is DiskLevel.OK

    # When more is used elsewhere, then more again
    disk.used += 4 * MB
    low = await keeping.guard_disks(NOW)
    disk.used += 4 * MB
    full = await keeping.guard_disks(NOW)

    # Then nothing else can go: the disk is low, then full
    assert (low.level, low.free_bytes) == (DiskLevel.LOW, 7 * MB)
    assert (full.level, full.free_bytes) == (DiskLevel.FULL, 3 * MB)
    assert await stored_ids(storage) == {c.clip.clip_id for c in alerted}
    assert {e.clip_id for e in await run_blocking(spool.entries)} == {
        failed.clip.clip_id
    }
    # And every deletion is in the history with its reason
    await repository.flush()
    events = await run_blocking(deleted, database)
    assert len(events) == 6
    assert sum('"reason": "disk"' in detail for _, detail in events) == 4
    assert sum('"reason": "disk_size"' in detail for _, detail in events) == 2
    await repository.close()


async def stored_ids(storage: LocalStorage) -> set[str]:
    """The clip ids of the store."""
    return {copy.clip_id for copy in await storage.stored()}


def test_levels_stop_below_the_floor_and_resume_halfway() -> None:
    """Recording stops below the floor and resumes only halfway to the threshold."""
    # Given a threshold of 10 MB and a floor of 4 MB (resume at 7 MB)
    level = DiskLevel.OK
    seen = []
    # When free space falls to 3 MB and comes back in steps
    for free in (12, 9, 3, 5, 6, 8, 11):
        level = next_level(level, free * MB, GUARD)
        seen.append(level)
    # Then the levels follow, with recording held off until 7 MB
    assert seen == [
        DiskLevel.OK,
        DiskLevel.LOW,
        DiskLevel.FULL,
        DiskLevel.FULL,
        DiskLevel.FULL,
        DiskLevel.LOW,
        DiskLevel.OK,
    ]


async def test_store_on_another_disk_is_measured_and_trimmed_on_its_own(
    tmp_path: Path,
) -> None:
    """With the store on its own disk (a tmpfs here), a low store disk trims only
    the store, and the lowest free space of the two is reported."""
    # Given the spool on the test's disk (plenty of room) and the store on
    # /dev/shm, a disk of 14 MB in this test, holding three 2 MB clips
    shm = Path(await run_blocking(tempfile.mkdtemp, None, "homesec-", "/dev/shm"))
    try:
        spool = Spool(tmp_path / "spool")
        storage = LocalStorage(shm / "clips", run_blocking)
        repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
        clips = [
            await store_clip(spool, storage, repository, days, size=2 * MB)
            for days in (3, 2, 1)
        ]
        spool_disk = SmallDisk(tmp_path, size=100 * MB)
        store_disk = SmallDisk(shm, size=14 * MB)

        def free(folder: Path) -> int:
            return (store_disk if folder.is_relative_to(shm) else spool_disk)(folder)

        keeping = Housekeeping(
            Housekept(spool, storage, repository, shm / "clips", run_blocking,
                      lambda _: False),
            StoreRetentionSettings(max_bytes=None, max_age=None, alerted_max_age=None),
            GUARD,
            free_space=free,
        )  # fmt: skip

        # When the guard runs: the store's disk has 8 MB free, 10 MB wanted
        figures = await keeping.retention(NOW, RetentionPlan(spool_bytes=6 * MB))

        # Then both disks were measured, and only the store lost its oldest clip
        assert {tmp_path / "spool", shm / "clips"} <= set(
            spool_disk.measured + store_disk.measured
        )
        assert len(await run_blocking(spool.entries)) == 3
        assert await stored_ids(storage) == {c.clip.clip_id for c in clips[1:]}
        assert figures.free_bytes == 10 * MB
        assert figures.store_bytes == 4 * MB
        await repository.close()
    finally:
        await run_blocking(shutil.rmtree, shm)


async def test_a_disk_that_cannot_be_measured_changes_nothing(tmp_path: Path) -> None:
    """When the free space cannot be read, the guard keeps its last judgement."""
    # Given a guard that saw a full disk, then cannot measure it any more
    spool = Spool(tmp_path / "spool")
    storage = LocalStorage(tmp_path / "clips", run_blocking)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    broken = False

    def free(_: Path) -> int:
        if broken:
            raise OSError("I/O error")
        return 1 * MB

    keeping = Housekeeping(
        Housekept(spool, storage, repository, None, run_blocking, lambda _: False),
        None,
        GUARD,
        free_space=free,
    )
    assert (await keeping.guard_disks(NOW)).level is DiskLevel.FULL
    broken = True

    # When the guard runs again
    figures = await keeping.guard_disks(NOW)

    # Then nothing fails, and recording stays stopped
    assert figures.level is DiskLevel.FULL
    assert figures.free_bytes == 1 * MB
    await repository.close()


async def test_dropbox_size_is_known_without_retention(
    tmp_path: Path, double: DropboxDouble
) -> None:
    """With Dropbox retention off, the store's size is still measured, and
    nothing in Dropbox is deleted, however old."""
    # Given three old clips stored in Dropbox, retention off
    spool = Spool(tmp_path / "spool")
    storage = make_dropbox(double)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    for days in (400, 300, 200):
        await store_clip(spool, storage, repository, days, size=1000)
    keeping = Housekeeping(
        Housekept(spool, storage, repository, None, run_blocking, lambda _: False),
        None,
        GUARD,
        free_space=lambda _: 100 * MB,
    )

    # When the retention pass runs
    figures = await keeping.retention(NOW, RetentionPlan(spool_bytes=3000))

    # Then the size HomeSec stored in Dropbox is known, and all clips stay
    assert figures.store_bytes == 3000
    assert len(double.state.files) == 3
    await storage.close()
    await repository.close()
