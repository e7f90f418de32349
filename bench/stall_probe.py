"""Why the event loop stalls: a probe for the benches (off unless asked for).

``HOMESEC_STALL_PROBE=<ms>`` explains each stall longer than ``ms``: how much of
it the loop's thread spent on a CPU (running callbacks: its own slow code or
HomeSec's on the loop), waiting for a CPU (the machine is busy: the kernel's
run-queue wait, ``/proc/self/task/<tid>/schedstat``) and blocked (neither:
waiting for the GIL that another thread holds, or for a wake-up the hypervisor
delays, which a VM's CPU steal shows), with the stacks a watchdog thread saw
meanwhile (the loop thread's, and the other Python threads that were not
blocked in a call that releases the GIL; the watchdog sampling on time while
the loop thread is blocked means the GIL was free). The steal of the whole run
is printed at its end.

``HOMESEC_SWITCH_INTERVAL_MS=<ms>`` sets ``sys.setswitchinterval`` (GIL
contention shrinks with a shorter one). ``HOMESEC_SLOW_CALLBACK_MS=<ms>`` turns
on asyncio's debug mode with that ``slow_callback_duration``: asyncio logs each
slower callback by name.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import linecache
import logging
import os
from pathlib import Path
import sys
import threading
import time
import traceback
from typing import Any

IDLE = (
    "wait", "select", "poll", "sleep", "_worker", "acquire", "recv", "read",
    "demux", "join", "get",
)  # fmt: skip
"""Top frames of a thread waiting with the GIL released: the function, or a
call on its current line (a C call shows no frame of its own: a reader waiting
in ``for packet in container.demux(...)``, a worker in ``queue.get()``)."""


def _idle(frame: Any) -> bool:
    """Whether a thread's top frame waits in a call that releases the GIL."""
    if frame.f_code.co_name in IDLE:
        return True
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
    return any(f"{word}(" in line for word in IDLE)


def slow_callbacks(loop: asyncio.AbstractEventLoop) -> None:
    """Log callbacks slower than ``HOMESEC_SLOW_CALLBACK_MS`` (asyncio debug).

    ``HOMESEC_SWITCH_INTERVAL_MS`` sets the interpreter's thread switch interval.
    """
    if interval := os.environ.get("HOMESEC_SWITCH_INTERVAL_MS"):
        sys.setswitchinterval(float(interval) / 1000)
    value = os.environ.get("HOMESEC_SLOW_CALLBACK_MS")
    if not value:
        return
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    loop.set_debug(True)
    loop.slow_callback_duration = float(value) / 1000


def _schedstat(fd: int) -> tuple[float, float]:
    """The thread's seconds on a CPU and waiting for one, so far."""
    on_cpu, waiting, _ = os.pread(fd, 100, 0).split()
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def _steal() -> float:
    """Seconds the hypervisor ran something else on this VM's CPUs, so far."""
    with Path("/proc/stat").open(encoding="ascii") as file:
        return int(file.readline().split()[8]) / os.sysconf("SC_CLK_TCK")


@dataclass
class _Seen:
    at: float
    loop_stack: str
    busy: list[str]


@dataclass
class StallProbe:
    """Explains the loop's stalls longer than ``threshold`` seconds."""

    threshold: float
    beat: float = field(default_factory=time.perf_counter)
    seen: list[_Seen] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    _fd: int = 0
    _steal_at: float = 0.0
    _ident: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_env(cls) -> StallProbe | None:
        """A probe when ``HOMESEC_STALL_PROBE`` asks for one."""
        value = os.environ.get("HOMESEC_STALL_PROBE")
        return None if not value else cls(float(value) / 1000)

    def start(self) -> None:
        """Watch the calling (event loop's) thread."""
        tid = threading.get_native_id()
        self._fd = os.open(f"/proc/self/task/{tid}/schedstat", os.O_RDONLY)
        self._steal_at = _steal()
        self._ident = threading.get_ident()
        threading.Thread(target=self._watch, name="stall probe", daemon=True).start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        print(f"probe: steal {_steal() - self._steal_at:.2f} s in all", flush=True)

    def before(self) -> tuple[float, float]:
        """Called before the monitor sleeps: the loop thread's CPU figures."""
        self.beat = time.perf_counter()
        return _schedstat(self._fd)

    def after(self, start: float, stall: float, figures: tuple[float, float]) -> None:
        """Called when the monitor woke ``stall`` seconds late."""
        self.beat = time.perf_counter()
        if stall < self.threshold:
            return
        on_cpu, waiting = _schedstat(self._fd)
        on_cpu -= figures[0]
        waiting -= figures[1]
        total = self.beat - start
        blocked = total - on_cpu - waiting - 0.005
        lines = [
            f"stall {stall * 1000:.1f} ms at {time.time():.3f}: loop thread on CPU "
            f"{on_cpu * 1000:.1f} ms, waiting for a CPU {waiting * 1000:.1f} ms, "
            f"blocked (GIL or VM) {blocked * 1000:.1f} ms; "
            f"load {os.getloadavg()[0]:.2f}"
        ]
        for seen in self.seen:
            if start <= seen.at <= self.beat:
                lines.append(
                    f"  +{(seen.at - start) * 1000:.0f} ms loop: {seen.loop_stack}"
                )
                lines.extend(f"      busy: {busy}" for busy in seen.busy)
        self.reports.append("\n".join(lines))
        print(lines[0] if len(lines) == 1 else "\n".join(lines), flush=True)
        self.seen = [s for s in self.seen if s.at > self.beat]

    def _watch(self) -> None:
        names = {}
        while not self._stop.is_set():
            time.sleep(0.002)
            now = time.perf_counter()
            if now - self.beat < 0.005 + self.threshold / 2:
                continue
            names = {t.ident: t.name for t in threading.enumerate()}
            frames = sys._current_frames()
            loop = frames.get(self._ident)
            busy = []
            for ident, frame in frames.items():
                if ident in {self._ident, threading.get_ident()}:
                    continue
                if _idle(frame):
                    continue
                busy.append(f"{names.get(ident, ident)}: {_stack(frame, 3)}")
            self.seen.append(_Seen(now, "?" if loop is None else _stack(loop, 6), busy))
            self.seen = self.seen[-200:]


def _stack(frame: object, depth: int) -> str:
    summary = traceback.extract_stack(frame)[-depth:]  # type: ignore[arg-type]
    return " < ".join(
        f"{_short(f.filename)}:{f.lineno} {f.name}" for f in reversed(summary)
    )


def _short(filename: str) -> str:
    """The file's last two path parts."""
    return "/".join(filename.rsplit("/", 2)[-2:])
