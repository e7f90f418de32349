"""Retention of stored copies: size and age limits, clips with alerts kept longer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
import logging

from pydantic import BaseModel, ConfigDict, Field

from .clip_names import clip_start
from .interfaces import BlockingRunner, Storage, StoredCopy
from .models import ClipState
from .repository import ClipRepository
from .retention import record_deleted
from .text import count, first_line, size

_LOGGER = logging.getLogger(__name__)


class StoreRetentionSettings(BaseModel):
    """Limits of a storage; None disables a limit."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int | None = Field(default=20 * 1024**3, ge=0)
    max_age: timedelta | None = timedelta(days=90)
    alerted_max_age: timedelta | None = timedelta(days=180)
    """How long clips with an alert are kept (None: as long as the size allows)."""


@dataclass(slots=True)
class StorePlan:
    """What a storage retention pass deleted (or chose to)."""

    store_bytes: int = 0
    """The storage's size before the pass."""
    delete: list[StoredCopy] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each chosen clip goes (``age`` or ``size``), by clip id."""
    freed_bytes: int = 0
    unreachable: str | None = None
    """Why nothing was deleted (the storage or the state store is down)."""

    @property
    def remaining_bytes(self) -> int:
        """The storage's size after the pass."""
        return self.store_bytes - self.freed_bytes


def kept_longer(state: ClipState | None) -> bool:
    """Whether a clip had an alert (delivered or decided).

    A copy whose history is unknown counts as alerted: it is never deleted
    earlier than one with an alert would be.
    """
    if state is None:
        return True
    return bool(state.delivered) or (
        state.decision is not None and state.decision.notify
    )


def recorded_at(copy: StoredCopy) -> datetime:
    """When the clip was recorded (its id), else when it was stored."""
    return clip_start(copy.clip_id) or copy.modified


def plan_store_retention(
    copies: list[StoredCopy],
    states: dict[str, ClipState],
    settings: StoreRetentionSettings,
    now: datetime,
    *,
    busy: Callable[[str], bool] = lambda _: False,
    spare_alerted: bool = False,
) -> StorePlan:
    """Choose copies to delete, oldest first, until the storage is within limits.

    Copies of clips still being processed are kept. Over the size limit, clips
    without an alert go first; with ``spare_alerted`` clips with one never go.
    """
    plan = StorePlan(store_bytes=sum(copy.size for copy in copies))
    # (recorded, clip id, alerted, copy) of the copies that may go, oldest first
    candidates = sorted(
        (recorded_at(copy), clip_id, kept_longer(state), copy)
        for copy in copies
        if not busy(clip_id := copy.clip_id)
        and ((state := states.get(clip_id)) is None or state.finished)
    )

    def drop(copy: StoredCopy, clip_id: str, reason: str) -> None:
        plan.delete.append(copy)
        plan.reasons[clip_id] = reason
        plan.freed_bytes += copy.size

    for recorded, clip_id, alerted, copy in candidates:
        limit = settings.alerted_max_age if alerted else settings.max_age
        too_old = limit is not None and now - recorded > limit
        if too_old and not (alerted and spare_alerted):
            drop(copy, clip_id, "age")
    tiers = (False,) if spare_alerted else (False, True)
    for alerted_tier in tiers:
        for _, clip_id, alerted, copy in candidates:
            if settings.max_bytes is None or plan.remaining_bytes <= settings.max_bytes:
                return plan
            if alerted is alerted_tier and clip_id not in plan.reasons:
                drop(copy, clip_id, "size")
    return plan


async def apply_store_retention(
    storage: Storage,
    repository: ClipRepository,
    settings: StoreRetentionSettings,
    run_blocking: BlockingRunner,
    now: datetime,
    *,
    busy: Callable[[str], bool] = lambda _: False,
    spare_alerted: bool = False,
    reason: str = "retention",
) -> StorePlan:
    """Plan and delete; nothing goes while the storage or the state store is down.

    Each deleted copy leaves its clip's state (no link to a deleted copy) and
    a ``clip_deleted`` event in its history. A deletion that fails stops the
    pass; the next pass tries again.
    """
    try:
        copies = await storage.stored()
    except Exception as err:  # noqa: BLE001 - any failure: retry next pass
        return StorePlan(unreachable=f"storage: {first_line(err)}")
    states = await repository.get_many(sorted({copy.clip_id for copy in copies}))
    if states is None:
        plan = StorePlan(store_bytes=sum(copy.size for copy in copies))
        plan.unreachable = "state store"
        return plan
    # Tens of thousands of copies take a while to sort: not on the event loop.
    queued = {copy.clip_id for copy in copies if busy(copy.clip_id)}
    plan = await run_blocking(
        partial(
            plan_store_retention,
            copies,
            states,
            settings,
            now,
            busy=queued.__contains__,
            spare_alerted=spare_alerted,
        )
    )
    done: list[StoredCopy] = []
    for copy in plan.delete:
        try:
            await storage.delete_stored(copy)
        except Exception as err:  # noqa: BLE001 - the storage went away
            plan.unreachable = f"storage: {first_line(err)}"
            break
        done.append(copy)
        await _forget_copy(repository, states.get(copy.clip_id), copy, now)
        await record_deleted(
            repository,
            copy.clip_id,
            copy.camera_name,
            now,
            copy="storage",
            reason=f"{reason}_{plan.reasons[copy.clip_id]}",
            bytes=copy.size,
        )
    plan.delete = done
    plan.freed_bytes = sum(copy.size for copy in done)
    if done:
        _LOGGER.info(
            "Retention (%s) removed %s (%s)",
            reason,
            count(len(done), "stored clip"),
            size(plan.freed_bytes),
        )
    return plan


async def _forget_copy(
    repository: ClipRepository,
    state: ClipState | None,
    copy: StoredCopy,
    now: datetime,
) -> None:
    """The clip's state no longer points at the deleted copy."""
    if state is None or state.storage_uri != copy.uri:
        return
    state.storage_uri = None
    state.view_url = None
    state.storage_deleted_at = now
    await repository.save(state)
