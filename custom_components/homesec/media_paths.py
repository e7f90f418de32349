"""Where a new hub keeps its clips: Home Assistant's media folder when there is one.

On Home Assistant OS and in the container, ``/media`` holds media: core backups
leave it out (a full backup can include it), and Home Assistant's own media
browser shows it. Elsewhere clips stay under the configuration directory.
Existing hubs keep the paths they were created with. ``HOMESEC_MEDIA_DIR``
names another media folder (script/develop keeps its demo inside .dev).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .const import CONF_SPOOL_PATH, CONF_STORAGE_PATH

MEDIA_DIR = Path(os.environ.get("HOMESEC_MEDIA_DIR", "/media"))


def new_hub_paths() -> dict[str, Any]:
    """Spool and local store paths for a new hub (blocking: looks at the disk)."""
    if not MEDIA_DIR.is_dir():
        return {}
    root = MEDIA_DIR / "homesec"
    return {
        CONF_SPOOL_PATH: str(root / "spool"),
        CONF_STORAGE_PATH: str(root / "clips"),
    }
