"""The pipeline's clip tasks: one per clip, and when each last started."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from .models import ClipState

REMEMBERED_STARTS = 10_000
"""Clips whose last start is remembered (far more than one recovery sees)."""


@dataclass(frozen=True, slots=True)
class PipelineMark:
    """The tasks' clock and the clips in flight, at one moment."""

    started: int
    in_flight: frozenset[str]


class ClipTasks:
    """At most one task per clip; a clip counts as queued while it runs."""

    def __init__(self) -> None:
        """No task yet."""
        self._tasks: dict[str, asyncio.Task[ClipState]] = {}
        self._stopping = False
        self._started = 0
        """How many clip tasks were started (a clock for ``mark``)."""
        self._last_start: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        """Clips in flight."""
        return len(self._tasks)

    def __contains__(self, clip_id: object) -> bool:
        """Whether the clip is in flight."""
        return clip_id in self._tasks

    def mark(self) -> PipelineMark:
        """Where the tasks are now: taken before listing clips to resume."""
        return PipelineMark(self._started, frozenset(self._tasks))

    def ran_since(self, clip_id: str, mark: PipelineMark) -> bool:
        """Whether the clip was in flight at ``mark`` or started after it."""
        return clip_id in mark.in_flight or (
            self._last_start.get(clip_id, 0) > mark.started
        )

    def start(
        self, clip_id: str, work: Callable[[], Coroutine[Any, Any, ClipState]]
    ) -> None:
        """Run a clip's work in its own task, unless it runs already or stopping."""
        if self._stopping or clip_id in self._tasks:
            return
        task = asyncio.create_task(work(), name=f"homesec {clip_id}")
        self._tasks[clip_id] = task
        self._started += 1
        self._last_start[clip_id] = self._started
        self._last_start.move_to_end(clip_id)
        if len(self._last_start) > REMEMBERED_STARTS:
            self._last_start.popitem(last=False)
        task.add_done_callback(lambda _: self._tasks.pop(clip_id, None))

    async def drain(self) -> None:
        """Wait until every task finished."""
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel every task and wait for them; start nothing new after."""
        self._stopping = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
