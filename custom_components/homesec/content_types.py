"""The content types of the files HomeSec keeps."""

from __future__ import annotations

from pathlib import PurePath

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
"""The types of the files HomeSec keeps (never guessed: systems disagree, and
some map ``.ts`` to a text type)."""
UNKNOWN_TYPE = "application/octet-stream"


def content_type(path: PurePath) -> str:
    """The content type of a clip or image file, by its extension."""
    return CONTENT_TYPES.get(path.suffix.lower(), UNKNOWN_TYPE)
