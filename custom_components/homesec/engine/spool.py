"""The local spool: the canonical queue of clips, one folder per camera."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
import shutil

from .models import Clip


class Spool:
    """Owns ``<root>/<camera>/<clip_id><ext>`` files."""

    def __init__(self, root: Path) -> None:
        """Keep clips under ``root``."""
        self.root = root

    def camera_dir(self, camera_name: str) -> Path:
        """The folder of one camera's clips."""
        return self.root / camera_name

    def adopt(
        self, path: Path, camera_name: str, source_type: str, ts: datetime
    ) -> Clip:
        """Move a finished file into the spool under a new clip id (blocking).

        The file is first moved to a hidden partial name inside the spool and then
        renamed, so the spool never holds half a clip.
        """
        folder = self.camera_dir(camera_name)
        folder.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        clip_id = self._free_clip_id(folder, camera_name, ts, suffix)
        partial = folder / f".{clip_id}{suffix}.partial"
        shutil.move(path, partial)
        final = folder / f"{clip_id}{suffix}"
        partial.replace(final)
        return Clip(
            clip_id=clip_id,
            camera_name=camera_name,
            local_path=final,
            start_ts=ts,
            source_type=source_type,
        )

    @staticmethod
    def _free_clip_id(folder: Path, camera_name: str, ts: datetime, suffix: str) -> str:
        base = f"{camera_name}_{ts.astimezone(UTC):%Y%m%d_%H%M%S}"
        clip_id = base
        counter = 1
        while (folder / f"{clip_id}{suffix}").exists():
            counter += 1
            clip_id = f"{base}_{counter}"
        return clip_id
