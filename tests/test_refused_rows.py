"""One row the database refuses never blocks later writes (real SQLite and Postgres)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
import logging
import math
from pathlib import Path
import sys

import pytest
from sqlalchemy import insert, select

from custom_components.homesec.engine.errors import StateStoreError
from custom_components.homesec.engine.models import (
    Box,
    ClipEvent,
    ClipEventType,
    ClipState,
    ClipStatus,
    Detection,
    FilterResult,
)
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    clip_events,
    clip_states,
    sqlite_url,
)

from .state_stores import store

__all__ = ["store"]


@pytest.fixture
async def repository(store: SQLAlchemyStateStore) -> AsyncGenerator[ClipRepository]:
    """The repository writing to ``store`` (closed after the test)."""
    repository = ClipRepository(store)
    yield repository
    await repository.close()


def _state(clip_id: str, camera: str = "front") -> ClipState:
    return ClipState(clip_id=clip_id, camera_name=camera, local_path="/spool/x.mp4")


def _event(clip_id: str, camera: str = "front", **detail: object) -> ClipEvent:
    return ClipEvent(
        clip_id=clip_id,
        camera_name=camera,
        event_type=ClipEventType.QUEUED,
        ts=datetime.now(UTC),
        detail=detail,
    )


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.endswith("engine.repository") and r.levelno == logging.WARNING
    ]


async def test_a_refused_row_is_dropped_and_later_writes_land(
    store: SQLAlchemyStateStore,
    repository: ClipRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A state with an id no database stores, and an event that will not serialise."""
    # Given a repository with good and refused writes queued together: a clip id
    # from a file name that is not UTF-8 (a lone surrogate) and an event whose
    # detail cannot become JSON
    await repository.save(_state("front_20260101_000001"))
    await repository.save(_state("front_\udcff_20260101"))
    await repository.record(_event("front_20260101_000001", step="queued"))
    await repository.record(_event("front_20260101_000001", bad=object()))
    await repository.record(_event("front_20260101_000001", step="done"))

    # When the repository writes them
    flushed = await repository.flush()

    # Then the good ones landed, the refused ones were dropped, and the store is
    # still healthy with nothing left pending
    assert flushed
    assert repository.healthy
    assert repository.pending == 0
    assert await store.get_state("front_20260101_000001") is not None
    # Then each refused write was logged once, naming the clip
    refusals = _refusals(caplog)
    assert len(refusals) == 2
    assert "front_\ufffd_20260101" in refusals[0]
    assert "queued" in refusals[1]

    # When more writes come after
    await repository.save(_state("front_20260101_000002"))
    assert await repository.flush()

    # Then they land, and nothing is logged again
    assert await store.get_state("front_20260101_000002") is not None
    assert len(_refusals(caplog)) == 2
    async with store.engine.connect() as conn:
        details = [row.detail for row in await conn.execute(select(clip_events))]
    assert details == [{"step": "queued"}, {"step": "done"}]


async def test_values_a_database_cannot_hold_are_stored_cleaned(
    store: SQLAlchemyStateStore,
    repository: ClipRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """NaN confidence, NUL bytes and an over-long camera name keep the clip's state."""
    # Given a clip state with a detector's NaN confidence, a camera name with a
    # NUL byte and longer than its column, and a file name that is not UTF-8
    state = _state("front_20260101_000003", camera="front\x00" + "c" * 300)
    state.status = ClipStatus.DONE
    state.filter_result = FilterResult(
        detected_classes=["person"],
        confidence=math.nan,
        frames_sampled=3,
        model="remote",
        detections=[
            Detection(
                label="person",
                confidence=math.nan,
                box=Box(x1=0, y1=0, x2=math.inf, y2=-math.inf),
                frame_ts=1.0,
            )
        ],
    )
    state.local_path = "/spool/front/cam\x00era\udcff.mp4"
    await repository.save(state)
    await repository.record(
        _event(state.clip_id, camera=state.camera_name, name="a\x00b\udcff")
    )

    # When it is written
    assert await repository.flush()

    # Then nothing was refused: the state is stored with its NaN as 0 and its
    # text as it was
    assert _refusals(caplog) == []
    stored = await store.get_state(state.clip_id)
    assert stored is not None
    assert stored.status is ClipStatus.DONE
    assert stored.filter_result is not None
    assert stored.filter_result.detected_classes == ["person"]
    assert stored.filter_result.confidence == 0.0
    (detection,) = stored.filter_result.detections
    assert detection.confidence == 0.0
    largest = sys.float_info.max
    assert (detection.box.x2, detection.box.y2) == (largest, -largest)
    assert stored.local_path == state.local_path
    assert stored.camera_name == state.camera_name
    # Then the camera column holds the name without NUL, cut to its length
    async with store.engine.connect() as conn:
        columns = [
            *(await conn.execute(select(clip_states.c.camera_name))).scalars(),
            *(await conn.execute(select(clip_events.c.camera_name))).scalars(),
        ]
        (detail,) = (await conn.execute(select(clip_events.c.detail))).scalars()
    assert columns == [("front\ufffd" + "c" * 300)[:255]] * 2
    assert detail == {"name": "a\x00b\udcff"}


async def test_the_store_tells_a_refused_value_from_an_unreachable_server(
    store: SQLAlchemyStateStore, tmp_path: Path
) -> None:
    """Refused: a broken constraint, text Postgres cannot hold; not: no server."""
    # Given a clip's state already stored
    await store.write([_state("front_20260101_000004")], [])

    # When the same clip is inserted again as a new row (a constraint it breaks)
    async with store.engine.connect() as conn:
        with pytest.raises(Exception) as duplicate:
            await conn.execute(
                insert(clip_states).values(
                    clip_id="front_20260101_000004",
                    camera_name="front",
                    status="done",
                    data={},
                )
            )

    # Then that is a refused value
    assert store.refuses(duplicate.value)

    # When a state whose id holds a NUL character is written
    nul = _state("front_\x00_20260101")
    if store.is_postgres:
        # Then Postgres refuses it (its text cannot hold NUL)
        with pytest.raises(Exception) as refused:
            await store.write([nul], [])
        assert store.refuses(refused.value)
    else:
        # Then SQLite stores it
        await store.write([nul], [])
        assert await store.get_state(nul.clip_id) is not None

    # When the database cannot be reached at all
    url = (
        "postgresql+asyncpg://postgres@127.0.0.1:1/none"
        if store.is_postgres
        else sqlite_url(tmp_path / "missing" / "homesec.db")
    )
    unreachable = SQLAlchemyStateStore(url)
    with pytest.raises(StateStoreError) as down:
        await unreachable.start()
    await unreachable.close()

    # Then that is no refused value: its writes wait for the database
    assert not store.refuses(down.value)


async def test_a_stored_document_that_cannot_be_read_blocks_nothing(
    store: SQLAlchemyStateStore,
    repository: ClipRepository,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A state written by another version (or by hand) is skipped, once logged."""
    # Given a good clip state and one whose stored document is not a clip state
    await repository.save(_state("front_20260101_000005"))
    assert await repository.flush()
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(clip_states).values(
                clip_id="front_20260101_000006",
                camera_name="front",
                status="done",
                data={"clip_id": "front_20260101_000006", "stages": "unknown"},
            )
        )
    ids = ["front_20260101_000005", "front_20260101_000006"]

    # When the clips' states are read, twice, and the newest states listed
    first = await repository.get_many(ids)
    second = await repository.get_many(ids)
    recent = await repository.recent("front", 10)
    unreadable = await repository.get("front_20260101_000006")

    # Then the good state is read, the unreadable one is left out, the store is
    # still healthy, and the unreadable document was logged once
    assert first is not None
    assert list(first) == ["front_20260101_000005"]
    assert second == first
    assert recent is not None
    assert [state.clip_id for state in recent] == ["front_20260101_000005"]
    assert unreadable is None
    assert repository.healthy
    logged = [
        r.getMessage()
        for r in caplog.records
        if r.name.endswith("sqlalchemy_store") and r.levelno == logging.WARNING
    ]
    assert len(logged) == 1
    assert "front_20260101_000006" in logged[0]
