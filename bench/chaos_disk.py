"""A simulated small disk over the bench's real clip files, for the disk guard.

The guard's only seam (``Housekeeping.free_space``) asks for the free bytes
of the disk holding a folder. Here the disk's size is made up (a few hundred
clips), while what it holds is real: every clip file under the spool, the clip
store, the incoming folder and the snapshots, measured on each call as
tests/test_disk_guard.py's ``SmallDisk`` does. The state store's files are
not counted: in Home Assistant the database grows by its own rules and the
guard never trims it, so here it would only blur what the guard does.
"""

from __future__ import annotations

import os
from pathlib import Path


def folder_bytes(root: Path) -> int:
    """Bytes of the visible files under ``root`` (links not followed; blocking).

    Hidden files (partial copies, the spool's list of deleted ids) are a few
    bytes, or about to become a visible file.
    """
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            if name.startswith("."):
                continue
            try:
                total += os.lstat(os.path.join(folder, name)).st_size  # noqa: PTH118
            except FileNotFoundError:
                continue  # deleted meanwhile
    return total


class SimulatedDisk:
    """A disk of ``size`` bytes holding the clip files under ``folders``."""

    def __init__(self, folders: list[Path], size: int) -> None:
        """Nothing is measured yet."""
        self.folders = folders
        self.size = size

    def used(self) -> int:
        """Bytes the clip files take now (blocking)."""
        return sum(folder_bytes(folder) for folder in self.folders)

    def __call__(self, _: Path) -> int:
        """Free bytes (blocking, like shutil.disk_usage): one disk for everything."""
        return self.size - self.used()
