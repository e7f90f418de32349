"""The local spool: the canonical queue of clips, one folder per camera."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import errno
import glob
import logging
import os
from pathlib import Path
import re
import shutil
from stat import S_ISREG
import threading
import time

from .clip_names import (
    clip_start,
    clip_time,
    detection_sidecar,
    safe_segment,
    sidecar_clip_id,
    start_order,
)
from .models import Clip
from .text import count

_LOGGER = logging.getLogger(__name__)

PARTIAL = ".partial"
DELETED = ".deleted"
"""Per camera: the ids of clips the spool deleted (never handed out again)."""
DELETED_KEPT = timedelta(days=400)
"""How long a deleted id is remembered (longer than any history is kept)."""
COPYING = ".copying"
LEFTOVER_MIN_AGE = 10.0
"""Seconds a leftover must be untouched before ``tidy`` takes it (not in use)."""
_LEFTOVER = re.compile(
    r"^\.(?P<id>[A-Za-z0-9_\-]+)(?P<suffix>\.[a-z0-9]{1,5})?(?P<end>\.partial|\.copying)$"
)


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """A clip file found in the spool."""

    clip_id: str
    camera_name: str
    path: Path
    size: int
    """Bytes of the clip and its detection recording."""
    mtime: datetime
    detection_path: Path | None = None
    """The clip's detection recording, when it has one."""


class Spool:
    """Owns ``<root>/<camera>/<clip_id><ext>`` files."""

    def __init__(self, root: Path) -> None:
        """Keep clips under ``root``."""
        self.root = root
        self._ids = threading.Lock()
        self._known: set[str] = set()
        """Ids the state store knows (clips retention may have deleted)."""
        self._deleted_loaded: set[Path] = set()

    def remember(self, clip_ids: Iterable[str]) -> None:
        """Never hand out these ids again (the state store knows them)."""
        with self._ids:
            self._known.update(clip_ids)

    def camera_dir(self, camera_name: str) -> Path:
        """The folder of one camera's clips (named after its id, never a path)."""
        return self.root / safe_segment(camera_name)

    def entries(self) -> list[SpoolEntry]:
        """Every finalized clip in the spool (blocking: run in an executor)."""
        found: list[SpoolEntry] = []
        if not self.root.is_dir():
            return found
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir():
                found.extend(_folder_entries(folder))
        return found

    def newest_first(self, camera_name: str) -> list[SpoolEntry]:
        """One camera's finalized clips, newest start first (blocking)."""
        folder = self.camera_dir(camera_name)
        found = _folder_entries(folder) if folder.is_dir() else []
        found.sort(key=lambda entry: start_order(entry.clip_id), reverse=True)
        return found

    def delete(self, paths: list[Path]) -> None:
        """Delete clip files; their ids are never handed out again (blocking).

        Each id is written to its camera's ``.deleted`` list first, so a later
        start that cannot ask the state store still knows it. A clip's
        detection recording goes with it.
        """
        by_folder: dict[Path, list[str]] = {}
        for path in paths:
            by_folder.setdefault(path.parent, []).append(path.stem)
        with self._ids:
            for folder, stems in by_folder.items():
                self._load_deleted(folder)
                self._known.update(stems)
                with (folder / DELETED).open("a", encoding="utf-8") as listing:
                    listing.writelines(f"{stem}\n" for stem in stems)
        for path in paths:
            path.unlink(missing_ok=True)
            detection_sidecar(path).unlink(missing_ok=True)

    def _load_deleted(self, folder: Path) -> None:
        """Learn the ids deleted from ``folder`` in earlier runs (once; locked).

        Ids recorded more than ``DELETED_KEPT`` ago (by the time they carry) are
        forgotten, and the list is rewritten without them: it stays bounded.
        """
        if folder in self._deleted_loaded:
            return
        self._deleted_loaded.add(folder)
        listing = folder / DELETED
        try:
            lines = listing.read_text(encoding="utf-8").split()
        except FileNotFoundError:
            return
        oldest = datetime.now(UTC) - DELETED_KEPT
        kept = [
            line
            for line in lines
            if (start := clip_start(line)) is not None and start >= oldest
        ]
        self._known.update(kept)
        if len(kept) < len(lines):
            partial = folder / f"{DELETED}{PARTIAL}"
            partial.write_text("".join(f"{line}\n" for line in kept), "utf-8")
            partial.replace(listing)

    def adopt(
        self,
        path: Path,
        camera_name: str,
        source_type: str,
        ts: datetime,
        detection: Path | None = None,
        *,
        clip_id: str | None = None,
    ) -> Clip:
        """Move a finished file into the spool under a new clip id (blocking).

        ``clip_id``, reserved earlier with ``reserve`` (same camera and ``ts``),
        is the id the clip takes instead of a new one.

        The id is reserved (``.<id>.partial``), the file is staged whole under
        ``.<id><ext>.partial`` (renamed, or copied as ``.<id><ext>.copying`` and
        renamed when it comes from another disk), its mtime set to ``ts``, and
        only then given its final name: the spool never holds half a clip, and
        ``tidy`` knows what a crash at any step left behind. ``detection``, a
        recording written in the camera's folder, becomes the clip's detection
        recording just before the clip gets its name; should that fail, the
        clip goes without (detection then reads the clip).
        """
        folder = self.camera_dir(camera_name)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        ts = clip_time(ts)
        clip_id = clip_id or self._reserve_clip_id(folder, camera_name, ts)
        staged = folder / f".{clip_id}{suffix}{PARTIAL}"
        copying = folder / f".{clip_id}{suffix}{COPYING}"
        try:
            _stage(path, staged, copying)
        except OSError:
            copying.unlink(missing_ok=True)
            (folder / f".{clip_id}{PARTIAL}").unlink(missing_ok=True)
            raise
        stamp = ts.timestamp()
        os.utime(staged, (stamp, stamp))  # the file's time is the clip's start
        final = folder / f"{clip_id}{suffix}"
        sidecar = None if detection is None else _take_detection(detection, final)
        staged.replace(final)
        (folder / f".{clip_id}{PARTIAL}").unlink(missing_ok=True)
        return Clip(
            clip_id=clip_id,
            camera_name=camera_name,
            local_path=final,
            start_ts=ts,
            source_type=source_type,
            detection_path=sidecar,
        )

    def reserve(
        self, camera_name: str, source_type: str, ts: datetime, suffix: str = ".mp4"
    ) -> Clip:
        """Reserve the id of a clip still being recorded (blocking).

        The clip it returns is the one ``adopt`` (given the id) will make of
        the recording, named by its first moment ``ts``: live detection tells
        of it before its file exists. ``tidy`` clears a reservation a crash
        left behind.
        """
        folder = self.camera_dir(camera_name)
        folder.mkdir(parents=True, exist_ok=True)
        ts = clip_time(ts)
        clip_id = self._reserve_clip_id(folder, camera_name, ts)
        return Clip(
            clip_id=clip_id,
            camera_name=camera_name,
            local_path=folder / f"{clip_id}{suffix}",
            start_ts=ts,
            source_type=source_type,
        )

    def release(self, clip: Clip) -> None:
        """Drop a reservation whose recording never became a clip (blocking)."""
        (clip.local_path.parent / f".{clip.clip_id}{PARTIAL}").unlink(missing_ok=True)

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
            self._load_deleted(folder)
            while True:
                if clip_id not in self._known and not _stem_taken(folder, clip_id):
                    try:
                        fd = os.open(
                            folder / f".{clip_id}{PARTIAL}",
                            os.O_CREAT | os.O_EXCL | os.O_WRONLY,
                            0o644,
                        )
                    except FileExistsError:
                        pass
                    else:
                        os.close(fd)
                        # Another spool may have named its clip after we looked
                        # and before it released the same reservation.
                        if not _stem_taken(folder, clip_id):
                            self._known.add(clip_id)
                            return clip_id
                        (folder / f".{clip_id}{PARTIAL}").unlink(missing_ok=True)
                counter += 1
                clip_id = f"{base}_{counter}"

    def tidy(self, camera_name: str, min_age: float = LEFTOVER_MIN_AGE) -> int:
        """Clear what an interrupted ``adopt`` left in a camera's folder (blocking).

        A reservation alone is deleted; a staged file is complete, so it is
        given its final name (recovery then processes it) unless that name is
        taken; a copy in progress is deleted (its source still has the file).
        A detection recording whose clip is gone is deleted.
        Files touched within ``min_age`` seconds are left for the next start.
        Returns how many leftovers were handled.
        """
        folder = self.camera_dir(camera_name)
        if not folder.is_dir():
            return 0
        limit = time.time() - min_age
        handled = 0
        for path in folder.iterdir():
            match = _LEFTOVER.match(path.name)
            if match is None or not path.is_file() or path.stat().st_mtime > limit:
                continue
            final = folder / f"{match['id']}{match['suffix'] or ''}"
            if match["end"] == PARTIAL and match["suffix"] and not final.exists():
                path.replace(final)
            else:
                path.unlink(missing_ok=True)
            handled += 1
        for path in folder.iterdir():  # after the staged clips got their names
            clip_id = sidecar_clip_id(path.name)
            if (
                clip_id is not None
                and not _stem_taken(folder, clip_id)
                and path.stat().st_mtime <= limit
            ):
                path.unlink(missing_ok=True)
                handled += 1
        if handled:
            _LOGGER.warning(
                "Cleared %s of interrupted spool moves of %s",
                count(handled, "leftover"), camera_name,
            )  # fmt: skip
        return handled


def _folder_entries(folder: Path) -> list[SpoolEntry]:
    """The finalized clips in one camera folder, with their detection recordings."""
    clips: list[Path] = []
    sidecars: dict[str, Path] = {}
    for path in folder.iterdir():
        if not path.name.startswith("."):
            clips.append(path)
        elif (clip_id := sidecar_clip_id(path.name)) is not None:
            sidecars[clip_id] = path
    found = []
    for path in clips:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # deleted meanwhile (another retention pass)
        if not S_ISREG(stat.st_mode):
            continue
        size = stat.st_size
        sidecar = sidecars.get(path.stem)
        if sidecar is not None:
            try:
                size += sidecar.stat().st_size
            except FileNotFoundError:
                sidecar = None
        found.append(
            SpoolEntry(
                clip_id=path.stem,
                camera_name=folder.name,
                path=path,
                size=size,
                mtime=datetime.fromtimestamp(stat.st_mtime, UTC),
                detection_path=sidecar,
            )
        )
    return found


def _take_detection(recording: Path, clip: Path) -> Path | None:
    """Name ``recording`` as the detection recording of ``clip``; None if it fails."""
    sidecar = detection_sidecar(clip)
    try:
        recording.replace(sidecar)
    except OSError as err:
        _LOGGER.warning(
            "The detection recording of %s was not kept (%s); detection reads the "
            "clip", clip.stem, err.strerror or err,
        )  # fmt: skip
        recording.unlink(missing_ok=True)
        return None
    return sidecar


def _stage(source: Path, staged: Path, copying: Path) -> None:
    """Move ``source`` to ``staged`` whole: renamed, or copied from another disk."""
    try:
        source.replace(staged)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise
        shutil.copyfile(source, copying)
        copying.replace(staged)
        source.unlink()


def _stem_taken(folder: Path, clip_id: str) -> bool:
    """Whether a file named ``<clip_id>.<anything>`` exists in ``folder``."""
    return any(folder.glob(f"{glob.escape(clip_id)}.*"))
