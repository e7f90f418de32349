"""The local spool: the canonical queue of clips, one folder per camera."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
import glob
import os
from pathlib import Path
import re
import shutil
import threading

from .models import Clip

_STAMP = re.compile(r"_(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)(?:_\d+)?$")


def clip_start(clip_id: str) -> datetime | None:
    """The UTC start time a spool clip id carries (``<camera>_<YYYYMMDD_HHMMSS>``)."""
    match = _STAMP.search(clip_id)
    if match is None:
        return None
    year, month, day, hour, minute, second = map(int, match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """A clip file found in the spool."""

    clip_id: str
    camera_name: str
    path: Path
    size: int
    mtime: datetime


class Spool:
    """Owns ``<root>/<camera>/<clip_id><ext>`` files."""

    def __init__(self, root: Path) -> None:
        """Keep clips under ``root``."""
        self.root = root
        self._ids = threading.Lock()
        self._known: set[str] = set()
        """Ids the state store knows (clips retention may have deleted)."""

    def remember(self, clip_ids: Iterable[str]) -> None:
        """Never hand out these ids again (the state store knows them)."""
        with self._ids:
            self._known.update(clip_ids)

    def camera_dir(self, camera_name: str) -> Path:
        """The folder of one camera's clips."""
        return self.root / camera_name

    def entries(self) -> list[SpoolEntry]:
        """Every finalized clip in the spool (blocking: run in an executor)."""
        found: list[SpoolEntry] = []
        if not self.root.is_dir():
            return found
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.name.startswith(".") or not path.is_file():
                    continue
                stat = path.stat()
                found.append(
                    SpoolEntry(
                        clip_id=path.stem,
                        camera_name=folder.name,
                        path=path,
                        size=stat.st_size,
                        mtime=datetime.fromtimestamp(stat.st_mtime, UTC),
                    )
                )
        return found

    def newest(self, camera_name: str) -> SpoolEntry | None:
        """The camera's most recent clip in the spool (blocking)."""
        folder = self.camera_dir(camera_name)
        if not folder.is_dir():
            return None
        newest: SpoolEntry | None = None
        for path in folder.iterdir():
            if path.name.startswith(".") or not path.is_file():
                continue
            stat = path.stat()
            mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
            if newest is None or mtime > newest.mtime:
                newest = SpoolEntry(
                    clip_id=path.stem,
                    camera_name=camera_name,
                    path=path,
                    size=stat.st_size,
                    mtime=mtime,
                )
        return newest

    @staticmethod
    def delete(paths: list[Path]) -> None:
        """Delete clip files (blocking)."""
        for path in paths:
            path.unlink(missing_ok=True)

    def adopt(
        self, path: Path, camera_name: str, source_type: str, ts: datetime
    ) -> Clip:
        """Move a finished file into the spool under a new clip id (blocking).

        The file is first moved to a hidden partial name inside the spool and then
        renamed, so the spool never holds half a clip; its mtime is set to ``ts``.
        """
        folder = self.camera_dir(camera_name)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        clip_id = self._reserve_clip_id(folder, camera_name, ts)
        partial = folder / f".{clip_id}.partial"
        shutil.move(path, partial)
        final = folder / f"{clip_id}{suffix}"
        partial.replace(final)
        stamp = ts.timestamp()
        os.utime(final, (stamp, stamp))  # the file's time is the clip's start
        return Clip(
            clip_id=clip_id,
            camera_name=camera_name,
            local_path=final,
            start_ts=ts,
            source_type=source_type,
        )

    def _reserve_clip_id(self, folder: Path, camera_name: str, ts: datetime) -> str:
        """A clip id no file of the camera uses, reserved for the caller (blocking).

        An id is taken by any file of that stem, whatever its extension (a
        picture and a video of the same second get two ids), by an id the state
        store knows (its clip may be gone from the spool), and by a
        reservation: the hidden partial file is created exclusively, so two
        threads or processes adopting at the same moment never share an id.
        """
        base = f"{camera_name}_{ts.astimezone(UTC):%Y%m%d_%H%M%S}"
        clip_id = base
        counter = 1
        with self._ids:
            while True:
                if clip_id not in self._known and not _stem_taken(folder, clip_id):
                    try:
                        fd = os.open(
                            folder / f".{clip_id}.partial",
                            os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                            0o644,
                        )
                    except FileExistsError:
                        pass
                    else:
                        os.close(fd)
                        self._known.add(clip_id)
                        return clip_id
                counter += 1
                clip_id = f"{base}_{counter}"


def _stem_taken(folder: Path, clip_id: str) -> bool:
    """Whether a file named ``<clip_id>.<anything>`` exists in ``folder``."""
    return any(folder.glob(f"{glob.escape(clip_id)}.*"))
