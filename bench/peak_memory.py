"""A process's own memory figures, from /proc/self/status.

``getrusage``'s ``ru_maxrss`` is no good in a child process: Linux carries the
parent's peak into it across ``exec`` (``subprocess`` forks from the parent), so
a small child reports its parent's size. ``VmHWM`` belongs to the process's own
memory map, which ``exec`` replaced.
"""

from __future__ import annotations

from pathlib import Path
import resource

STATUS = Path("/proc/self/status")


def status_mb(field: str) -> float:
    """A /proc/self/status memory field (``VmRSS``, ``VmHWM``...) in MB."""
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def peak_rss_mb() -> float:
    """Peak resident memory of the process in MB (``VmHWM``; ru_maxrss elsewhere)."""
    if STATUS.exists():
        return status_mb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
