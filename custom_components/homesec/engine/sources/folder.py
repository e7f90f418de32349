"""Folder source: hands over video files once they stopped growing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
import os
from pathlib import Path
import time

from pydantic import BaseModel, ConfigDict, Field

from ..faults import Fault, fault_of
from ..interfaces import BlockingRunner, ClipSink, ClipSource
from ..models import Clip
from ..spool import Spool
from ..text import describe

_LOGGER = logging.getLogger(__name__)

VIDEO_EXTENSIONS = frozenset({".mp4", ".mkv", ".mov", ".avi", ".m4v", ".ts"})
PARTIAL_SUFFIXES = frozenset(
    {".tmp", ".part", ".partial", ".crdownload", ".filepart", ".download", ".swp"}
)


class FolderSettings(BaseModel):
    """Where to watch and how long a file must be still."""

    model_config = ConfigDict(frozen=True)

    watch_dir: Path
    settle_seconds: float = Field(default=5.0, gt=0)
    poll_seconds: float = Field(default=1.0, gt=0)


@dataclass(frozen=True, slots=True)
class _Signature:
    size: int
    mtime_ns: int


@dataclass(slots=True)
class _Seen:
    signature: _Signature
    since: float


def is_candidate(name: str) -> bool:
    """A video file name that is not hidden, temporary or partial."""
    if name.startswith((".", "~")):
        return False
    lowered = name.lower()
    if any(lowered.endswith(suffix) for suffix in PARTIAL_SUFFIXES):
        return False
    return Path(lowered).suffix in VIDEO_EXTENSIONS


def _scan(folder: Path) -> dict[Path, _Signature]:
    found: dict[Path, _Signature] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_file(follow_symlinks=False) or not is_candidate(entry.name):
                continue
            stat = entry.stat(follow_symlinks=False)
            found[Path(entry.path)] = _Signature(stat.st_size, stat.st_mtime_ns)
    return found


class FolderSource(ClipSource):
    """Polls a folder; a file is taken once its size and mtime held still."""

    def __init__(
        self,
        camera_name: str,
        settings: FolderSettings,
        spool: Spool,
        run_blocking: BlockingRunner,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Watch ``settings.watch_dir`` for ``camera_name``."""
        self.camera_name = camera_name
        self._settings = settings
        self._spool = spool
        self._run = run_blocking
        self._clock = clock
        self._seen: dict[Path, _Seen] = {}
        self._task: asyncio.Task[None] | None = None
        self._moving: asyncio.Future[Clip] | None = None
        """A file being moved into the spool (it runs on when polling stops)."""
        self._problem: str | None = None
        self._fault: Fault | None = None

    @property
    def problem(self) -> str | None:
        """Why the folder cannot be read, while it cannot."""
        return self._problem

    @property
    def fault(self) -> Fault | None:
        """The kind of ``problem`` (a folder that is gone, not readable...)."""
        return self._fault

    async def start(self, sink: ClipSink) -> None:
        """Clear what an interrupted move into the spool left, then poll."""
        await self._run(self._spool.tidy, self.camera_name)
        self._task = asyncio.create_task(
            self._poll_forever(sink), name=f"homesec folder {self.camera_name}"
        )

    async def stop(self) -> None:
        """Stop polling; a file being moved lands in the spool before this returns.

        Its clip is not handed over: the runtime resumes the spool's clips.
        """
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._moving is not None:
            await asyncio.gather(self._moving, return_exceptions=True)
            self._moving = None

    async def _poll_forever(self, sink: ClipSink) -> None:
        while True:
            await self.poll_once(sink)
            await asyncio.sleep(self._settings.poll_seconds)

    async def poll_once(self, sink: ClipSink) -> int:
        """Scan once and hand over the files that settled; return how many."""
        try:
            files = await self._run(_scan, self._settings.watch_dir)
        except OSError as err:
            self._mark_unhealthy(err)
            return 0
        if self._problem is not None:
            _LOGGER.info("Folder %s is readable again", self._settings.watch_dir)
        self._problem = self._fault = None
        now = self._clock()
        ready: list[Path] = []
        for path, signature in files.items():
            seen = self._seen.get(path)
            if seen is None or seen.signature != signature:
                self._seen[path] = _Seen(signature, now)
            elif (
                signature.size > 0 and now - seen.since >= self._settings.settle_seconds
            ):
                ready.append(path)
        for gone in self._seen.keys() - files.keys():
            del self._seen[gone]
        for path in sorted(ready, key=lambda p: self._seen[p].signature.mtime_ns):
            del self._seen[path]
            mtime = datetime.fromtimestamp(files[path].mtime_ns / 1e9, UTC)
            self._moving = asyncio.ensure_future(
                self._run(self._spool.adopt, path, self.camera_name, "folder", mtime)
            )
            try:  # shielded: a stop waits for the move instead of abandoning it
                clip = await asyncio.shield(self._moving)
            except OSError as err:
                _LOGGER.warning("Could not take %s into the spool: %s", path, err)
                continue
            finally:
                if self._moving.done():
                    self._moving = None
            await sink(clip.model_copy(update={"original_name": path.name}))
        return len(ready)

    def _mark_unhealthy(self, err: OSError) -> None:
        message = describe(err)
        if message != self._problem:
            _LOGGER.error(
                "Cannot read folder %s: %s", self._settings.watch_dir, message
            )
        self._problem = message
        self._fault = fault_of(err)
