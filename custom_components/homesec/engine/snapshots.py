"""Annotated detection snapshots kept as files, one per clip."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
import logging
from pathlib import Path
import re

from .interfaces import BlockingRunner

_LOGGER = logging.getLogger(__name__)

CLIP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,200}$")


class SnapshotStore:
    """``<root>/<clip_id>.jpg`` (blocking methods: run in an executor)."""

    def __init__(self, root: Path) -> None:
        """Keep snapshots under ``root``."""
        self.root = root

    def path(self, clip_id: str) -> Path:
        """Where a clip's snapshot is (or would be)."""
        if not CLIP_ID.match(clip_id):
            raise ValueError(f"not a clip id: {clip_id!r}")
        return self.root / f"{clip_id}.jpg"

    def save(self, clip_id: str, jpeg: bytes) -> Path:
        """Write the snapshot atomically (a reader never sees half a file)."""
        target = self.path(clip_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(jpeg)
        partial.replace(target)
        return target

    def read(self, clip_id: str) -> bytes | None:
        """The snapshot's bytes, or None."""
        try:
            return self.path(clip_id).read_bytes()
        except OSError, ValueError:
            return None

    def prune(self, older_than: datetime) -> int:
        """Delete snapshots last written before ``older_than``; return how many."""
        if not self.root.is_dir():
            return 0
        limit = older_than.timestamp()
        removed = 0
        for path in self.root.iterdir():
            if path.suffix == ".jpg" and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class SnapshotKeeper:
    """Keeps each detection's snapshot: recent ones in memory, all on disk."""

    def __init__(
        self, store: SnapshotStore, run: BlockingRunner, recent: int = 50
    ) -> None:
        """Write through ``run`` (an executor); keep ``recent`` in memory."""
        self.store = store
        self._run = run
        self._recent: OrderedDict[str, bytes] = OrderedDict()
        self._size = recent

    async def keep(self, clip_id: str, jpeg: bytes) -> None:
        """Hold the snapshot in memory at once, then write it (failures logged)."""
        self._recent[clip_id] = jpeg
        self._recent.move_to_end(clip_id)
        while len(self._recent) > self._size:
            self._recent.popitem(last=False)
        try:
            await self._run(self.store.save, clip_id, jpeg)
        except OSError as err:
            _LOGGER.warning("Cannot keep the snapshot of %s: %s", clip_id, err)

    async def get(self, clip_id: str) -> bytes | None:
        """A clip's snapshot, or None."""
        if (jpeg := self._recent.get(clip_id)) is not None:
            return jpeg
        return await self._run(self.store.read, clip_id)

    async def prune(self, older_than: datetime) -> int:
        """Delete snapshots written before ``older_than``; return how many."""
        return await self._run(self.store.prune, older_than)
