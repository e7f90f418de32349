"""The source kinds a camera can be: one entry each (see ``base.SourceKind``).

Adding a kind: its engine ``ClipSource``, a module here with its ``KIND``, one
line below, and its strings (step, fields, source type option).
"""

from __future__ import annotations

from . import folder, ftp, ha_camera, rtsp
from .base import CheckContext, SourceKind

SOURCE_KINDS: dict[str, SourceKind] = {
    kind.key: kind for kind in (rtsp.KIND, ftp.KIND, folder.KIND, ha_camera.KIND)
}

__all__ = ["SOURCE_KINDS", "CheckContext", "SourceKind"]
