"""A process's own peak memory.

``getrusage``'s ``ru_maxrss`` is no good in a child process: Linux carries the
parent's peak into it across ``exec`` (``subprocess`` forks from the parent), so
a small child reports its parent's size. ``VmHWM`` belongs to the process's own
memory map, which ``exec`` replaced.
"""

from __future__ import annotations

from pathlib import Path
import resource


def peak_rss_mb() -> float:
    """Peak resident memory of the process in MB (``VmHWM``; ru_maxrss elsewhere)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
