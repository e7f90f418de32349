"""Old history is pruned in short batches, never a spooled or unfinished clip's."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from custom_components.homesec.engine.interfaces import HistoryPruned
from custom_components.homesec.engine.models import (
    ClipEvent,
    ClipEventType,
    ClipState,
    ClipStatus,
)
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    clip_events,
    clip_states,
)

from .state_stores import store

__all__ = ["store"]

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=100)
CUTOFF = NOW - timedelta(days=90)


@pytest.fixture
async def repository(store: SQLAlchemyStateStore) -> AsyncGenerator[ClipRepository]:
    """The repository writing to ``store`` (closed after the test)."""
    repository = ClipRepository(store)
    yield repository
    await repository.close()


async def _clip(
    repository: ClipRepository,
    store: SQLAlchemyStateStore,
    clip_id: str,
    *,
    when: datetime,
    status: ClipStatus = ClipStatus.DONE,
) -> None:
    """A clip last changed at ``when``, with two events of that time."""
    state = ClipState(clip_id=clip_id, camera_name="front", local_path="/x.mp4")
    state.status = status
    await repository.save(state)
    for kind in (ClipEventType.QUEUED, ClipEventType.FINISHED):
        await repository.record(
            ClipEvent(clip_id=clip_id, camera_name="front", event_type=kind, ts=when)
        )
    assert await repository.flush()
    async with store.engine.begin() as conn:
        await conn.execute(
            update(clip_states)
            .where(clip_states.c.clip_id == clip_id)
            .values(updated_at=when)
        )


async def _left(store: SQLAlchemyStateStore) -> tuple[set[str], dict[str, int]]:
    """Clip ids with a state, and the number of events per clip id."""
    async with store.engine.connect() as conn:
        states = set((await conn.execute(select(clip_states.c.clip_id))).scalars())
        rows = await conn.execute(
            select(clip_events.c.clip_id, func.count()).group_by(clip_events.c.clip_id)
        )
        return states, dict(rows.tuples().all())


async def test_old_history_goes_and_what_is_needed_stays(
    store: SQLAlchemyStateStore, repository: ClipRepository
) -> None:
    """Finished clips older than the limit go; spooled, unfinished and recent stay."""
    # Given 25 finished clips 100 days old, among them one still in the spool,
    # an unfinished clip of the same age, and a clip finished yesterday
    old = [f"front_old_{n:02d}" for n in range(25)]
    for clip_id in old:
        await _clip(repository, store, clip_id, when=OLD)
    spooled = old[3]
    await _clip(
        repository, store, "front_unfinished", when=OLD, status=ClipStatus.PROCESSING
    )
    await _clip(repository, store, "front_recent", when=NOW - timedelta(days=1))

    # When history older than 90 days is pruned in batches of 10 rows
    pruned = await repository.prune_history(CUTOFF, {spooled}, batch_rows=10)

    # Then the 24 old finished clips lost their state and their events, and the
    # spooled, unfinished and recent clips kept all of theirs
    assert pruned is not None
    assert (pruned.states, pruned.events) == (24, 48)
    assert (pruned.kept_states, pruned.kept_events) == (1, 2)
    assert pruned.done
    states, events = await _left(store)
    assert states == {spooled, "front_unfinished", "front_recent"}
    assert events == {spooled: 2, "front_unfinished": 2, "front_recent": 2}

    # When it runs again
    again = await repository.prune_history(CUTOFF, {spooled}, batch_rows=10)

    # Then there is nothing more to delete
    assert again is not None
    assert (again.states, again.events) == (0, 0)


async def test_one_batch_deletes_at_most_its_rows(
    store: SQLAlchemyStateStore, repository: ClipRepository
) -> None:
    """A batch is one short transaction of a bounded number of rows."""
    # Given 12 old finished clips
    for n in range(12):
        await _clip(repository, store, f"front_old_{n:02d}", when=OLD)

    # When one batch of 5 rows runs, then the next one
    first = await store.prune_history(CUTOFF, set(), 5, HistoryPruned())
    second = await store.prune_history(CUTOFF, set(), 5, first)

    # Then each deleted 5 states, and the pass is not done
    assert (first.states, second.states) == (5, 10)
    assert not second.states_done
    assert not second.done
    states, _ = await _left(store)
    assert len(states) == 2


async def test_writes_queued_during_a_pass_are_saved_first(
    store: SQLAlchemyStateStore, repository: ClipRepository
) -> None:
    """A clip recorded again just before pruning is not pruned with stale times."""
    # Given an old finished clip whose new state is queued but not yet written
    await _clip(repository, store, "front_resumed", when=OLD)
    state = ClipState(clip_id="front_resumed", camera_name="front", local_path="/x.mp4")
    state.status = ClipStatus.PROCESSING
    await repository.save(state)

    # When history is pruned
    pruned = await repository.prune_history(CUTOFF, set())

    # Then the queued state was written first: the clip is unfinished and kept
    assert pruned is not None
    assert pruned.states == 0
    stored = await store.get_state("front_resumed")
    assert stored is not None
    assert stored.status is ClipStatus.PROCESSING
