"""Detection threads yield the CPU to Home Assistant when both want it."""

from __future__ import annotations

import os
import threading

NICE_STEP = 5
"""How much lower than the process a detection thread's CPU priority is."""


def lower_priority() -> None:
    """Lower the calling thread's CPU priority (Linux; elsewhere nothing).

    Decoding and inference keep a small machine's cores busy; Home Assistant's
    event loop (the main thread) then waits for a core. A thread of lower
    priority still gets the idle cores, and threads it starts (decoders',
    runtimes' workers) inherit its priority. The priority is the main
    thread's lowered by ``NICE_STEP``, however often this is called.
    """
    if not hasattr(os, "setpriority"):
        return
    thread = threading.get_native_id()
    try:
        lowered = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + NICE_STEP)
        if os.getpriority(os.PRIO_PROCESS, thread) < lowered:
            os.setpriority(os.PRIO_PROCESS, thread, lowered)
    except OSError:
        return
