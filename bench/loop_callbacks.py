"""How long the event loop's callbacks hold it: the stall the loop's own code causes.

A late wake-up of a sleeping task (``StallMonitor``) counts every reason the
loop thread did not run: a callback holding the loop, and also the machine not
running the thread at all (a VM whose host steals CPU time stalls an idle
loop). ``CallbackTimer`` times each callback the loop runs (``Handle._run``:
plain callbacks, timers and task steps), in wall time and in the loop thread's
CPU time, and keeps the longest: that is what blocks the loop. It also adds up
the garbage collector's pauses (any thread's: a collection stops every thread)
that fell inside that callback, so a collection that happened to land there is
told apart from the callback's own work.
"""

from __future__ import annotations

import asyncio.events
from collections.abc import Callable
from dataclasses import dataclass
import gc
import time
from typing import Any


@dataclass(slots=True)
class Longest:
    """The longest callback so far."""

    wall: float = 0.0
    cpu: float = 0.0
    """The loop thread's CPU time during that callback."""
    name: str = ""
    gc: float = 0.0
    """Garbage collection pauses during that callback."""


class CallbackTimer:
    """Times every callback of every event loop in the process while installed."""

    def __init__(self) -> None:
        """Not installed until ``with``."""
        self.longest = Longest()
        self.longest_cpu = Longest()
        """The callback that used the most CPU time (often the same one)."""
        self.largest_gc = 0.0
        """The longest garbage collection pause (any thread)."""
        self._original: Callable[[asyncio.events.Handle], None] | None = None
        self._gc_total = 0.0
        self._gc_start = 0.0

    def _on_gc(self, phase: str, _: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        pause = time.perf_counter() - self._gc_start
        self._gc_total += pause
        self.largest_gc = max(self.largest_gc, pause)

    def reset(self) -> None:
        """Forget what was timed so far."""
        self.longest = Longest()
        self.longest_cpu = Longest()
        self.largest_gc = 0.0

    def __enter__(self) -> CallbackTimer:
        """Wrap ``Handle._run`` (``TimerHandle`` inherits it)."""
        original = asyncio.events.Handle._run
        self._original = original
        timer = self

        def timed_run(handle: asyncio.events.Handle) -> None:
            start, start_cpu = time.perf_counter(), time.thread_time()
            start_gc = timer._gc_total
            original(handle)
            wall = time.perf_counter() - start
            if wall > timer.longest.wall or wall > 0.005:
                cpu = time.thread_time() - start_cpu
                paused = timer._gc_total - start_gc
                if wall > timer.longest.wall:
                    timer.longest = Longest(wall, cpu, _name(handle), paused)
                if cpu > timer.longest_cpu.cpu:
                    timer.longest_cpu = Longest(wall, cpu, _name(handle), paused)

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_: object) -> None:
        """Restore ``Handle._run``."""
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign,assignment]


def _name(handle: asyncio.events.Handle) -> str:
    """What the handle runs, short."""
    callback = handle._callback  # type: ignore[attr-defined]
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        code = getattr(coro, "cr_code", None)
        if code is not None:
            return f"task {code.co_qualname} ({code.co_filename.rsplit('/', 1)[-1]})"
    return getattr(callback, "__qualname__", repr(callback))[:100]
