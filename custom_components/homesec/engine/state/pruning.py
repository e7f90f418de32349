"""History pruning in bounded batches: one short transaction per batch."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Table, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..interfaces import HistoryPruned
from ..models import ClipStatus

FINISHED = (ClipStatus.DONE.value, ClipStatus.ERROR.value)


async def prune_batch(
    conn: AsyncConnection,
    tables: tuple[Table, Table],
    *,
    before: datetime,
    keep: AbstractSet[str],
    limit: int,
    progress: HistoryPruned,
) -> HistoryPruned:
    """Delete up to ``limit`` old rows: finished clip states, then events.

    Rows met but kept (their clip is in ``keep``) stay in place, so the next
    batch skips as many rows of the same order as were kept before it.
    """
    states, events = tables
    if not progress.states_done:
        query = (
            select(states.c.clip_id)
            .where(states.c.updated_at < before, states.c.status.in_(FINISHED))
            .order_by(states.c.updated_at, states.c.clip_id)
            .offset(progress.kept_states)
            .limit(limit)
        )
        found = list((await conn.execute(query)).scalars())
        gone = [clip_id for clip_id in found if clip_id not in keep]
        if gone:
            await conn.execute(delete(states).where(states.c.clip_id.in_(gone)))
        return replace(
            progress,
            states=progress.states + len(gone),
            kept_states=progress.kept_states + len(found) - len(gone),
            states_done=len(found) < limit,
        )
    unfinished = exists().where(
        states.c.clip_id == events.c.clip_id, states.c.status.not_in(FINISHED)
    )
    query = (
        select(events.c.id, events.c.clip_id)
        .where(events.c.ts < before, ~unfinished)
        .order_by(events.c.id)
        .offset(progress.kept_events)
        .limit(limit)
    )
    rows = list(await conn.execute(query))
    gone_ids = [row_id for row_id, clip_id in rows if clip_id not in keep]
    if gone_ids:
        await conn.execute(delete(events).where(events.c.id.in_(gone_ids)))
    return replace(
        progress,
        events=progress.events + len(gone_ids),
        kept_events=progress.kept_events + len(rows) - len(gone_ids),
        done=len(rows) < limit,
    )
