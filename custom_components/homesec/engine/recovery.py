"""Recovery: re-queue the spool's unfinished clips at start, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from .interfaces import BlockingRunner
from .models import Clip, ClipState
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
    entries = await run_blocking(spool.entries)
    states = await repository.get_many([entry.clip_id for entry in entries])
    if states is None:
        return None
    unfinished: list[Unfinished] = []
    for entry in entries:
        state = states.get(entry.clip_id)
        if state is not None and state.finished:
            continue
        clip = Clip(
            clip_id=entry.clip_id,
            camera_name=entry.camera_name,
            local_path=entry.path,
            start_ts=(state.start_ts if state and state.start_ts else entry.mtime),
            source_type=(state.source_type if state and state.source_type else "spool"),
        )
        unfinished.append(Unfinished(clip, state))
    unfinished.sort(key=lambda item: item.clip.start_ts, reverse=True)
    return unfinished
