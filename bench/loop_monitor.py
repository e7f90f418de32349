"""Measure the largest event-loop stall while something runs."""

from __future__ import annotations

import asyncio
import time


class LoopMonitor:
    """Wakes every ``interval`` seconds and records how late it woke."""

    def __init__(self, interval: float = 0.005) -> None:
        """Sample every ``interval`` seconds."""
        self.interval = interval
        self.max_stall = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval)
            late = time.perf_counter() - start - self.interval
            self.max_stall = max(self.max_stall, late)

    def __enter__(self) -> LoopMonitor:
        """Start sampling."""
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
