"""How long the event loop's callbacks hold it: the stall the loop's own code causes.

A late wake-up of a sleeping task (``StallMonitor``) counts every reason the
loop thread did not run: a callback holding the loop, and also the machine not
running the thread at all (a VM whose host steals CPU time stalls an idle
loop). ``CallbackTimer`` times each callback the loop runs (``Handle._run``:
plain callbacks, timers and task steps), in wall time and in the loop thread's
CPU time, and keeps the longest: that is what blocks the loop. It also adds up
the garbage collector's pauses (any thread's: a collection stops every thread)
that fell inside that callback, so a collection that happened to land there is
told apart from the callback's own work, and the CPU time the hypervisor
stole from the machine meanwhile (``/proc/stat``, all CPUs, in 10 ms ticks): a
VM's thread CPU time counts the time the host took back, so a callback whose
CPU time is mostly steal did not compute for that long.
"""

from __future__ import annotations

import asyncio.events
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
import gc
import os
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
    steal: float = 0.0
    """CPU time the hypervisor stole from the machine during that callback."""


class CallbackTimer:
    """Times every callback of every event loop in the process while installed."""

    def __init__(self) -> None:
        """Not installed until ``with``."""
        self.longest = Longest()
        self.largest_gc = 0.0
        """The longest garbage collection pause (any thread)."""
        self._original: Callable[[asyncio.events.Handle], None] | None = None
        self._gc_total = 0.0
        self._gc_start = 0.0
        self._stat: int | None = None

    def _steal(self) -> float:
        """The machine's stolen CPU time so far, in seconds (0 without /proc)."""
        if self._stat is None:
            return 0.0
        return int(os.pread(self._stat, 256, 0).split(b"\n", 1)[0].split()[8]) / 100

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
        self.largest_gc = 0.0

    def __enter__(self) -> CallbackTimer:
        """Wrap ``Handle._run`` (``TimerHandle`` inherits it)."""
        original = asyncio.events.Handle._run
        self._original = original
        timer = self
        with suppress(OSError):
            self._stat = os.open("/proc/stat", os.O_RDONLY)

        def timed_run(handle: asyncio.events.Handle) -> None:
            start, start_cpu = time.perf_counter(), time.thread_time()
            start_gc, start_steal = timer._gc_total, timer._steal()
            original(handle)
            wall = time.perf_counter() - start
            if wall > timer.longest.wall:
                timer.longest = Longest(
                    wall,
                    time.thread_time() - start_cpu,
                    _name(handle),
                    timer._gc_total - start_gc,
                    timer._steal() - start_steal,
                )

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign,assignment]
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_: object) -> None:
        """Restore ``Handle._run``."""
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign,assignment]
        if self._stat is not None:
            os.close(self._stat)
            self._stat = None


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
