"""Free space of the disk holding a folder."""

from __future__ import annotations

from pathlib import Path
import shutil


def existing(path: Path) -> Path:
    """``path``, or its nearest parent that exists."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def disk_free(path: Path) -> int:
    """Free bytes for an unprivileged writer on the disk holding ``path``."""
    return shutil.disk_usage(existing(path)).free
