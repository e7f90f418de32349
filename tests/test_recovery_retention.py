"""Restart recovery finishes each unfinished clip exactly once; retention never
deletes a clip whose upload or processing is not done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from custom_components.homesec.engine.models import (
    Clip,
    ClipState,
    ClipStatus,
    Stage,
    StageStatus,
)
from custom_components.homesec.engine.recovery import find_unfinished
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
from custom_components.homesec.engine.storage.local import LocalStorage

from .pipeline_parts import (
    CountingStorage,
    RecordingNotifier,
    make_pipeline,
    run_blocking,
    spool_clips,
)


def _state_at(clip: Clip, done: list[Stage], **fields: object) -> ClipState:
    """A state as a pipeline interrupted after ``done`` stages leaves it."""
    state = ClipState.for_clip(clip)
    state.status = ClipStatus.PROCESSING
    for stage in done:
        state.stages[stage].status = StageStatus.DONE
        state.stages[stage].attempts = 1
    return state.model_copy(update=fields)


async def test_restart_finishes_five_unfinished_clips_exactly_once(
    tmp_path: Path, motion_clip: Path
) -> None:
    """Clips stopped at five different stages each finish once, newest first."""
    # Given six spooled clips: one finished, five stopped at different stages
    spool = Spool(tmp_path / "spool")
    clips = await run_blocking(spool_clips, spool, motion_clip, 6)
    storage = CountingStorage(LocalStorage(tmp_path / "clips", run_blocking))
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    phone, bus = RecordingNotifier("phone"), RecordingNotifier("bus")
    first_run = make_pipeline(repository, storage, [phone, bus])
    finished = await first_run.process(clips[0])
    uploaded = await storage.inner.put(clips[2])
    detected = finished.filter_result
    assert detected is not None
    uri = {"storage_uri": uploaded.storage_uri}
    # clips[1]: never recorded (the store was down when it arrived)
    await repository.save(_state_at(clips[2], [Stage.UPLOAD], **uri))
    await repository.save(_state_at(clips[3], [], status=ClipStatus.QUEUED))
    await repository.save(
        _state_at(clips[4], [Stage.UPLOAD, Stage.DETECT], **uri, filter_result=detected)
    )
    await repository.save(
        _state_at(
            clips[5],
            [Stage.UPLOAD, Stage.DETECT, Stage.DECIDE],
            **uri,
            filter_result=detected,
            delivered=["phone"],
        )
    )
    phone.alerts.clear()
    bus.alerts.clear()
    storage.puts.clear()

    # When HomeSec restarts: unfinished clips are found and re-queued
    unfinished = await find_unfinished(spool, repository, run_blocking)
    assert unfinished is not None
    pipeline = make_pipeline(repository, storage, [phone, bus])
    for item in unfinished:
        await pipeline.submit(item.clip, item.state)
    await pipeline.drain()

    # Then the five were re-queued newest first, and the finished one was not
    assert [item.clip.clip_id for item in unfinished] == [
        clip.clip_id for clip in reversed(clips[1:])
    ]
    # Then only clips without a stored copy were uploaded, once each
    assert storage.puts == {clips[1].clip_id: 1, clips[3].clip_id: 1}
    # Then each notifier delivered each alert exactly once over both runs
    assert bus.count() == {clip.clip_id: 1 for clip in clips[1:]}
    assert phone.count() == {clip.clip_id: 1 for clip in clips[1:5]}
    # Then every clip is done and a second restart finds nothing to do
    states = await repository.get_many([clip.clip_id for clip in clips])
    assert states is not None
    assert {state.status for state in states.values()} == {ClipStatus.DONE}
    assert await find_unfinished(spool, repository, run_blocking) == []
    await repository.close()


async def _spool_with_states(
    tmp_path: Path, motion_clip: Path
) -> tuple[Spool, ClipRepository, list[Clip]]:
    """Four clips a minute apart: uploaded+done, not uploaded, processing, done."""
    spool = Spool(tmp_path / "spool")
    clips = await run_blocking(spool_clips, spool, motion_clip, 4)
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    finished = [Stage.UPLOAD, Stage.DETECT, Stage.DECIDE]
    uri = "local:front_door/x.mp4"
    await repository.save(
        _state_at(clips[0], finished, storage_uri=uri, status=ClipStatus.DONE)
    )
    not_uploaded = _state_at(clips[1], [Stage.DETECT], status=ClipStatus.DONE)
    not_uploaded.stages[Stage.UPLOAD].status = StageStatus.FAILED
    await repository.save(not_uploaded)
    await repository.save(_state_at(clips[2], [Stage.UPLOAD], storage_uri=uri))
    await repository.save(
        _state_at(clips[3], finished, storage_uri=uri, status=ClipStatus.DONE)
    )
    return spool, repository, clips


async def test_unconfirmed_uploads_survive_above_the_size_limit(
    tmp_path: Path, motion_clip: Path
) -> None:
    """Over a tiny size limit, only uploaded and finished clips go, oldest first."""
    # Given four clips and a size limit smaller than one clip
    spool, repository, clips = await _spool_with_states(tmp_path, motion_clip)
    settings = RetentionSettings(max_bytes=100, max_age=None)
    now = datetime.now(UTC)

    # When a dry run plans retention
    dry = await apply_retention(
        spool, repository, settings, run_blocking, now, dry_run=True
    )

    # Then it lists the two safe clips and deletes nothing
    assert dry.delete == [clips[0].clip_id, clips[3].clip_id]
    assert dry.kept_unsafe == [clips[1].clip_id, clips[2].clip_id]
    assert all(clip.local_path.exists() for clip in clips)

    # When retention runs for real
    plan = await apply_retention(spool, repository, settings, run_blocking, now)

    # Then the safe clips are gone and the others survive above the limit
    assert plan.delete == dry.delete
    assert [clip.local_path.exists() for clip in clips] == [False, True, True, False]
    assert plan.spool_bytes - plan.freed_bytes > settings.max_bytes  # type: ignore[operator]
    await repository.close()


async def test_age_limit_and_busy_clips(tmp_path: Path, motion_clip: Path) -> None:
    """Old safe clips go by age; a clip being processed is kept."""
    # Given four clips, an age limit they all exceed, and clip 3 in flight
    spool, repository, clips = await _spool_with_states(tmp_path, motion_clip)
    settings = RetentionSettings(max_bytes=None, max_age=timedelta(days=1))
    later = datetime.now(UTC) + timedelta(days=2)

    # When retention runs
    plan = await apply_retention(
        spool,
        repository,
        settings,
        run_blocking,
        later,
        busy=lambda clip_id: clip_id == clips[3].clip_id,
    )

    # Then only the old, safe, idle clip went
    assert plan.delete == [clips[0].clip_id]
    assert clips[3].clip_id in plan.kept_unsafe
    await repository.close()


async def test_nothing_is_deleted_while_the_store_is_down(
    tmp_path: Path, motion_clip: Path
) -> None:
    """Without the state store no upload can be confirmed, so nothing goes."""
    # Given clips and a store that cannot be opened (its folder is a file)
    spool = Spool(tmp_path / "spool")
    clips = await run_blocking(spool_clips, spool, motion_clip, 2)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(blocker / "s.db")))

    # When retention runs with every limit exceeded
    plan = await apply_retention(
        spool,
        repository,
        RetentionSettings(max_bytes=0, max_age=timedelta(0)),
        run_blocking,
        datetime.now(UTC),
    )

    # Then nothing is deleted and the plan says why; recovery waits as well
    assert plan.store_unreachable
    assert plan.delete == []
    assert all(clip.local_path.exists() for clip in clips)
    assert await find_unfinished(spool, repository, run_blocking) is None
    await repository.close()


async def test_a_resumed_clip_keeps_its_original_name(
    tmp_path: Path, motion_clip: Path
) -> None:
    """A folder clip interrupted by a restart is resumed under its file's name."""
    # Given a clip taken from a folder with its name, interrupted after upload
    spool = Spool(tmp_path / "spool")
    incoming = tmp_path / "MDalarm_20261124_100000.mp4"
    incoming.write_bytes(motion_clip.read_bytes())
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    adopted = await run_blocking(spool.adopt, incoming, "front_door", "folder", start)
    clip = adopted.model_copy(update={"original_name": incoming.name})
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    storage = CountingStorage(LocalStorage(tmp_path / "clips", run_blocking))
    await repository.save(_state_at(clip, []))

    # When HomeSec restarts and resumes it
    unfinished = await find_unfinished(spool, repository, run_blocking)
    assert unfinished is not None
    pipeline = make_pipeline(repository, storage, [])
    for item in unfinished:
        await pipeline.submit(item.clip, item.state)
    await pipeline.drain()

    # Then the resumed clip and its finished state keep the file's name
    assert [item.clip.original_name for item in unfinished] == [incoming.name]
    state = await repository.get(clip.clip_id)
    assert state is not None
    assert (state.status, state.original_name) == (ClipStatus.DONE, incoming.name)
    await repository.close()
