"""Measure the largest event-loop stall while something runs, and what it was.

The largest stall is taken apart (Linux): the loop thread's time on a CPU
(running callbacks), waiting for a CPU (the machine was busy), and neither
(waiting for the GIL another thread holds, or for the hypervisor); and the CPU
time the hypervisor stole from the whole VM meanwhile (``/proc/stat``, counted
in 10 ms ticks).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
import os
from pathlib import Path
import threading
import time


@dataclass(frozen=True, slots=True)
class StallParts:
    """Where the largest stall's time went, in seconds."""

    on_cpu: float
    waiting_for_cpu: float
    blocked: float
    stolen: float

    def describe(self) -> str:
        """The parts, in milliseconds, for a report."""
        return (
            f"loop thread on a CPU {self.on_cpu * 1000:.1f} ms, waiting for one "
            f"{self.waiting_for_cpu * 1000:.1f} ms, blocked (GIL or hypervisor) "
            f"{self.blocked * 1000:.1f} ms; VM CPU time stolen meanwhile "
            f"{self.stolen * 1000:.0f} ms"
        )


def _schedstat(tid: int) -> tuple[float, float]:
    """A thread's seconds on a CPU and waiting for one, so far (0 if unknown)."""
    try:
        stat = Path(f"/proc/self/task/{tid}/schedstat").read_text()
        on_cpu, waiting, _ = stat.split()
    except OSError, ValueError:
        return 0.0, 0.0
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def _steal() -> float:
    """Seconds the hypervisor ran something else on this VM's CPUs, so far."""
    try:
        with Path("/proc/stat").open(encoding="ascii") as file:
            return int(file.readline().split()[8]) / os.sysconf("SC_CLK_TCK")
    except OSError, ValueError, IndexError:
        return 0.0


class LoopMonitor:
    """Wakes every ``interval`` seconds and records how late it woke."""

    def __init__(self, interval: float = 0.005) -> None:
        """Sample every ``interval`` seconds."""
        self.interval = interval
        self.max_stall = 0.0
        self.parts: StallParts | None = None
        """The largest stall taken apart."""
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        tid = threading.get_native_id()
        while True:
            start = time.perf_counter()
            (on_cpu, waiting), stolen = _schedstat(tid), _steal()
            await asyncio.sleep(self.interval)
            late = time.perf_counter() - start - self.interval
            if late <= self.max_stall:
                continue
            (on_cpu_after, waiting_after), stolen_after = _schedstat(tid), _steal()
            self.max_stall = late
            on_cpu, waiting = on_cpu_after - on_cpu, waiting_after - waiting
            self.parts = StallParts(
                on_cpu=on_cpu,
                waiting_for_cpu=waiting,
                blocked=max(0.0, late - on_cpu - waiting),
                stolen=stolen_after - stolen,
            )

    def __enter__(self) -> LoopMonitor:
        """Start sampling."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
