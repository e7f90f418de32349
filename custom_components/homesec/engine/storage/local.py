"""Local folder storage: one folder per camera, atomic writes."""

from __future__ import annotations

from datetime import UTC, datetime
import filecmp
import logging
import os
from pathlib import Path
import shutil
import time

from ..clip_names import safe_segment
from ..interfaces import BlockingRunner, Storage, StoredCopy
from ..models import Clip, UploadOutcome

_LOGGER = logging.getLogger(__name__)

PARTIAL_MAX_AGE = 3600.0
"""Seconds after which an untouched partial copy is a crash's leftover."""


class LocalStorage(Storage):
    """Copies clips to ``<root>/<camera>/<clip file>``."""

    def __init__(self, root: Path, run_blocking: BlockingRunner) -> None:
        """Store under ``root``; file work runs through ``run_blocking``."""
        self._root = root
        self._run = run_blocking

    def path_for(self, clip: Clip) -> Path:
        """Where a clip is (or will be) stored: named by ids, never a user's name."""
        name = safe_segment(clip.clip_id) + clip.local_path.suffix.lower()
        return self._root / safe_segment(clip.camera_name) / name

    async def put(self, clip: Clip) -> UploadOutcome:
        """Copy the clip atomically; a clip already stored is not copied again."""
        dest = self.path_for(clip)
        await self._run(_copy_atomic, clip.local_path, dest)
        return UploadOutcome(storage_uri=f"local:{clip.camera_name}/{dest.name}")

    async def ping(self) -> bool:
        """Whether the root folder exists (or can be created) and is writable."""
        return await self._run(_writable, self._root)

    async def stored(self) -> list[StoredCopy]:
        """Every clip file under ``<root>/<camera>/`` (partial copies excluded).

        Partial copies a crash left (untouched for an hour) are deleted on the way.
        """
        return await self._run(_list, self._root)

    async def delete_stored(self, copy: StoredCopy) -> None:
        """Delete one stored clip file."""
        path = self._root / copy.camera_name / copy.name
        await self._run(path.unlink, True)


def _list(root: Path) -> list[StoredCopy]:
    found: list[StoredCopy] = []
    if not root.is_dir():
        return found
    stale = time.time() - PARTIAL_MAX_AGE
    for folder in root.iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        for path in folder.iterdir():
            if path.name.startswith(".") and path.name.endswith(".partial"):
                _drop_leftover(path, stale)
                continue
            if path.name.startswith(".") or not path.is_file():
                continue
            stat = path.stat()
            found.append(
                StoredCopy(
                    camera_name=folder.name,
                    name=path.name,
                    size=stat.st_size,
                    modified=datetime.fromtimestamp(stat.st_mtime, UTC),
                    uri=f"local:{folder.name}/{path.name}",
                )
            )
    return found


def _drop_leftover(path: Path, stale: float) -> None:
    """Delete a partial copy untouched since ``stale`` (a copy cut short)."""
    try:
        if path.is_file() and path.stat().st_mtime < stale:
            path.unlink()
            _LOGGER.info("Removed %s, a copy an interruption cut short", path.name)
    except OSError as err:
        _LOGGER.debug("Cannot remove %s: %s", path.name, err)


def _copy_atomic(src: Path, dest: Path) -> None:
    if dest.exists() and dest.resolve() == src.resolve():
        msg = f"{src} is already where it would be stored: storage and spool overlap"
        raise OSError(msg)
    if dest.exists():
        if filecmp.cmp(src, dest, shallow=False):
            return  # stored already
        msg = f"a different clip is already stored as {dest.name}; it is kept"
        raise FileExistsError(msg)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        shutil.copyfile(src, tmp)
        tmp.replace(dest)
    except OSError:
        tmp.unlink(missing_ok=True)  # a disk that filled keeps no half copy
        raise


def _writable(root: Path) -> bool:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(root, os.W_OK)
