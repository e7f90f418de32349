"""Clip history older than the hub's limit is deleted, a batch at a time."""

from __future__ import annotations

from datetime import datetime, timedelta
import logging

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pydantic import BaseModel

from .builder import Engine
from .engine.text import count

_LOGGER = logging.getLogger(__name__)

HISTORY_PRUNE_INTERVAL = timedelta(hours=6)


class HistoryPrune(BaseModel):
    """What the last history pruning pass deleted (shown in diagnostics)."""

    at: datetime
    older_than: datetime
    states: int
    """Clip states deleted."""
    events: int
    """Clip events deleted."""
    kept_states: int
    """Old clip states kept: their clip is still in the spool."""
    kept_events: int
    """Old events kept: their clip is in the spool or still being processed."""
    complete: bool
    """False when more old history is left for the next pass."""


async def async_prune_history(
    hass: HomeAssistant, engine: Engine, max_age: timedelta
) -> HistoryPrune | None:
    """Delete clip history older than ``max_age``; None if the store is away.

    Clips still in the spool or in the clip store keep their history,
    whatever its age (a stored copy stays in the library with its facts);
    while the store cannot be listed, nothing is pruned.
    """
    now = dt_util.utcnow()
    older_than = now - max_age
    entries = await hass.async_add_executor_job(engine.spool.entries)
    try:
        stored = await engine.storage.stored()
    except Exception as err:  # noqa: BLE001 - any failure: prune next pass
        _LOGGER.debug("History not pruned: the stored clips are unknown: %s", err)
        return None
    keep = {entry.clip_id for entry in entries} | {c.clip_id for c in stored}
    pruned = await engine.repository.prune_history(older_than, keep)
    if pruned is None:
        return None
    done = HistoryPrune(
        at=now,
        older_than=older_than,
        states=pruned.states,
        events=pruned.events,
        kept_states=pruned.kept_states,
        kept_events=pruned.kept_events,
        complete=pruned.done,
    )
    if pruned.states or pruned.events:
        _LOGGER.info(
            "History pruning deleted %s and %s older than %s (kept %s and %s "
            "of clips still in the spool, stored or being processed)",
            count(pruned.states, "clip state"),
            count(pruned.events, "event"),
            older_than.date().isoformat(),
            count(pruned.kept_states, "state"),
            count(pruned.kept_events, "event"),
        )
    return done
