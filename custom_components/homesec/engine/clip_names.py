"""Names of clips: their ids, start times and detection recordings' file names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
import re

DETECTION_SUFFIX = ".detect.mkv"
"""A clip's detection recording is ``.<clip_id>.detect.mkv`` beside it: hidden,
so it is never listed, stored or shown as a clip, and deleted with its clip."""
_STAMP = re.compile(r"_(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)(?:_(\d+))?$")


EARLIEST_CLIP = datetime(2000, 1, 1, tzinfo=UTC)
"""Earlier clip times are a camera clock that was reset (to 1970)."""
CLOCK_AHEAD = timedelta(minutes=5)
"""How far a camera's clock may run ahead of ours before its time is not used."""


def clip_time(ts: datetime, now: datetime | None = None) -> datetime:
    """The UTC start of a clip, from the time a source or camera gave.

    A naive time is UTC (file and stream times are). A time before 2000 (a
    reset camera clock) or ahead of ``now`` (a camera clock set to local time
    east of UTC, or simply wrong) is replaced by ``now``: a clip cannot start
    in the future, and its id and library day must be plausible.
    """
    now = now or datetime.now(UTC)
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    if ts < EARLIEST_CLIP or ts > now + CLOCK_AHEAD:
        return now.astimezone(UTC)
    return ts


_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,200}$")


def safe_segment(name: str) -> str:
    """``name`` when it can name a folder or file of HomeSec's own; else ValueError.

    Camera and clip ids qualify (letters, digits, ``_`` and ``-``); a path, a
    hidden or relative name (``..``), or a user's file name does not.
    """
    if not _SEGMENT.match(name):
        msg = f"not an id: {name[:50]!r}"
        raise ValueError(msg)
    return name


def detection_sidecar(clip_path: Path) -> Path:
    """Where the detection recording of the clip at ``clip_path`` is kept."""
    return clip_path.with_name(f".{clip_path.stem}{DETECTION_SUFFIX}")


def sidecar_clip_id(name: str) -> str | None:
    """The clip id a detection recording's file name belongs to, or None."""
    if not (name.startswith(".") and name.endswith(DETECTION_SUFFIX)):
        return None
    clip_id = name[1 : -len(DETECTION_SUFFIX)]
    return clip_id if _SEGMENT.match(clip_id) else None


def clip_start(clip_id: str) -> datetime | None:
    """The UTC start time a spool clip id carries (``<camera>_<YYYYMMDD_HHMMSS>``)."""
    match = _STAMP.search(clip_id)
    if match is None:
        return None
    year, month, day, hour, minute, second = map(int, match.groups()[:6])
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def start_order(clip_id: str) -> tuple[str, int]:
    """A sort key putting a camera's clip ids in start order.

    Clips of the same second follow their suffix (``_2`` before ``_10``); an
    id without a time sorts first.
    """
    match = _STAMP.search(clip_id)
    if match is None:
        return "", 0
    return "".join(match.groups()[:6]), int(match[7] or 1)
