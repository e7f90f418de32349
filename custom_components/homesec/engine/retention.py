"""Spool retention: size and age limits, oldest first, never an unsafe delete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
import logging

from pydantic import BaseModel, ConfigDict, Field

from .interfaces import BlockingRunner
from .models import ClipEvent, ClipEventType, ClipState, Stage
from .repository import ClipRepository
from .spool import Spool, SpoolEntry
from .text import count, size

_LOGGER = logging.getLogger(__name__)


class RetentionSettings(BaseModel):
    """Limits of the local spool; None disables a limit."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int | None = Field(default=5 * 1024**3, ge=0)
    max_age: timedelta | None = timedelta(days=30)


class RetentionPlan(BaseModel):
    """What a retention pass deletes (or would delete, in a dry run)."""

    delete: list[str] = Field(default_factory=list)
    """Clip ids to delete, oldest first."""
    freed_bytes: int = 0
    spool_bytes: int = 0
    """Spool size before the pass."""
    kept_unsafe: list[str] = Field(default_factory=list)
    """Clips over a limit kept because their upload or processing is not done."""
    store_unreachable: bool = False


def deletable(state: ClipState | None) -> bool:
    """A clip may go once its processing finished and its upload is confirmed.

    A clip whose stored copy retention already deleted was stored: its time
    is up, so its spool copy may go too.
    """
    return (
        state is not None
        and state.finished
        and state.done(Stage.UPLOAD)
        and (state.storage_uri is not None or state.storage_deleted_at is not None)
    )


async def record_deleted(
    repository: ClipRepository,
    clip_id: str,
    camera_name: str,
    now: datetime,
    **detail: str | int,
) -> None:
    """Put a ``clip_deleted`` event in the clip's history."""
    await repository.record(
        ClipEvent(
            clip_id=clip_id,
            camera_name=camera_name,
            event_type=ClipEventType.DELETED,
            ts=now,
            detail=detail,
        )
    )


def plan_retention(
    entries: list[SpoolEntry],
    states: dict[str, ClipState],
    settings: RetentionSettings,
    now: datetime,
    busy: Callable[[str], bool] = lambda _: False,
) -> RetentionPlan:
    """Choose clips to delete, oldest first, until the spool is within limits."""
    total = sum(entry.size for entry in entries)
    plan = RetentionPlan(spool_bytes=total)
    for entry in sorted(entries, key=lambda e: (e.mtime, e.clip_id)):
        too_old = settings.max_age is not None and now - entry.mtime > settings.max_age
        too_big = settings.max_bytes is not None and total > settings.max_bytes
        if not (too_old or too_big):
            continue
        if busy(entry.clip_id) or not deletable(states.get(entry.clip_id)):
            plan.kept_unsafe.append(entry.clip_id)
            continue
        plan.delete.append(entry.clip_id)
        plan.freed_bytes += entry.size
        total -= entry.size
    return plan


async def apply_retention(
    spool: Spool,
    repository: ClipRepository,
    settings: RetentionSettings,
    run_blocking: BlockingRunner,
    now: datetime,
    *,
    dry_run: bool = False,
    busy: Callable[[str], bool] = lambda _: False,
    reason: str = "retention",
) -> RetentionPlan:
    """Plan and (unless ``dry_run``) delete; nothing goes if the store is down.

    Each deletion is recorded in the clip's history with ``reason``.
    """
    entries = await run_blocking(spool.entries)
    states = await repository.get_many([entry.clip_id for entry in entries])
    if states is None:
        return RetentionPlan(
            spool_bytes=sum(e.size for e in entries), store_unreachable=True
        )
    # Sorting thousands of clips is not for the event loop; which clips are
    # busy is read here, on it.
    busy_now = {entry.clip_id for entry in entries if busy(entry.clip_id)}
    plan = await run_blocking(
        plan_retention, entries, states, settings, now, busy_now.__contains__
    )
    if plan.delete and not dry_run:
        by_id = {entry.clip_id: entry for entry in entries}
        paths = [by_id[clip_id].path for clip_id in plan.delete]
        await run_blocking(spool.delete, paths)
        for clip_id in plan.delete:
            entry = by_id[clip_id]
            await record_deleted(
                repository,
                clip_id,
                entry.camera_name,
                now,
                copy="spool",
                reason=reason,
                bytes=entry.size,
            )
        _LOGGER.info(
            "Retention (%s) removed %s (%s) from the spool",
            reason,
            count(len(plan.delete), "clip"),
            size(plan.freed_bytes),
        )
    return plan
