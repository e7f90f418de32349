"""Recovery: the spool's clips still to process, or still to store, newest first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .interfaces import BlockingRunner
from .models import Clip, ClipState, Stage, StageStatus
from .repository import ClipRepository
from .spool import Spool


@dataclass(frozen=True, slots=True)
class Unfinished:
    """A spooled clip to process again, with the state it reached (if any)."""

    clip: Clip
    state: ClipState | None


async def find_unfinished(
    spool: Spool, repository: ClipRepository, run_blocking: BlockingRunner
) -> list[Unfinished] | None:
    """Spooled clips without a finished state, newest first.

    Returns None when the state store cannot be asked: without it, finished and
    unfinished clips cannot be told apart, so nothing is re-queued yet.
    """
    return await _spooled(
        spool,
        repository,
        run_blocking,
        lambda state: state is None or not state.finished,
    )


def unstored(state: ClipState | None) -> bool:
    """Whether a finished clip has no confirmed stored copy (its upload failed)."""
    return (
        state is not None
        and state.finished
        and not (
            state.done(Stage.UPLOAD) and (state.storage_uri or state.storage_deleted_at)
        )
    )


def waiting_for_detection(state: ClipState | None) -> bool:
    """Whether an unfinished clip's detection failed (the detector was away)."""
    return (
        state is not None
        and not state.finished
        and state.stages[Stage.DETECT].status is StageStatus.FAILED
    )


async def find_waiting(
    spool: Spool, repository: ClipRepository, run_blocking: BlockingRunner
) -> list[Unfinished] | None:
    """Spooled clips waiting for the detector, newest first."""
    return await _spooled(spool, repository, run_blocking, waiting_for_detection)


async def find_unstored(
    spool: Spool, repository: ClipRepository, run_blocking: BlockingRunner
) -> list[Unfinished] | None:
    """Spooled clips that finished without a stored copy, newest first."""
    return await _spooled(spool, repository, run_blocking, unstored)


async def _spooled(
    spool: Spool,
    repository: ClipRepository,
    run_blocking: BlockingRunner,
    wanted: Callable[[ClipState | None], bool],
) -> list[Unfinished] | None:
    """The spool's clips whose state is ``wanted``; None if the store is down."""
    entries = await run_blocking(spool.entries)
    states = await repository.get_many([entry.clip_id for entry in entries])
    if states is None:
        return None
    found: list[Unfinished] = []
    for entry in entries:
        state = states.get(entry.clip_id)
        if not wanted(state):
            continue
        clip = (
            state.clip(
                entry.path, detection_path=entry.detection_path, start_ts=entry.mtime
            )
            if state is not None
            else Clip(
                clip_id=entry.clip_id,
                camera_name=entry.camera_name,
                local_path=entry.path,
                start_ts=entry.mtime,
                source_type="spool",
                detection_path=entry.detection_path,
            )
        )
        found.append(Unfinished(clip, state))
    found.sort(key=lambda item: item.clip.start_ts, reverse=True)
    return found
