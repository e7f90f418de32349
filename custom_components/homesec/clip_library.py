"""The clip library behind HomeSec's media source: cameras, days, pages of clips.

Days come from clip ids (``<camera>_<YYYYMMDD_HHMMSS>``, UTC), so listing a
camera reads ids only; a page reads at most ``PAGE_SIZE`` clip states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util

from .engine.models import ClipState
from .engine.repository import ClipRepository
from .engine.spool import clip_start
from .links import signed, snapshot_path

PAGE_SIZE = 100
THUMBNAIL_VALID = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class ClipEntry:
    """One clip as the library shows it."""

    clip_id: str
    title: str
    thumbnail: str | None
    local: bool


def local_day(clip_id: str) -> date | None:
    """The local calendar day a clip started on."""
    started = clip_start(clip_id)
    return dt_util.as_local(started).date() if started else None


async def async_days(
    repository: ClipRepository, camera_id: str
) -> list[tuple[date, int]]:
    """The days with clips of a camera, newest first, with their clip counts."""
    ids = await repository.clip_ids(camera_id) or []
    counts: dict[date, int] = {}
    for clip_id in ids:
        day = local_day(clip_id)
        if day is not None:
            counts[day] = counts.get(day, 0) + 1
    return sorted(counts.items(), reverse=True)


async def async_page(
    hass: HomeAssistant,
    repository: ClipRepository,
    camera_id: str,
    day: date,
    page: int,
) -> tuple[list[ClipEntry], bool]:
    """One page of a day's clips, newest first, and whether more pages follow."""
    ids = await repository.clip_ids(camera_id) or []
    of_day = sorted((i for i in ids if local_day(i) == day), reverse=True)
    chunk = of_day[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    states = await repository.get_many(chunk) or {}
    entries = [_entry(hass, clip_id, states.get(clip_id)) for clip_id in chunk]
    return entries, len(of_day) > (page + 1) * PAGE_SIZE


def _entry(hass: HomeAssistant, clip_id: str, state: ClipState | None) -> ClipEntry:
    started = clip_start(clip_id)
    when = dt_util.as_local(started).strftime("%H:%M:%S") if started else clip_id
    parts = [when]
    if state is not None and state.filter_result is not None:
        found = state.filter_result
        parts.append(", ".join(found.detected_classes) or "no detection")
        if found.stationary:
            parts.append("stationary, no alert")
    if state is not None and state.analysis is not None:
        analysis = state.analysis
        parts.append(f"{analysis.activity_type} ({analysis.risk_level.value} risk)")
    # Every detector draws a snapshot of a clip's best frame (motion too).
    has_snapshot = (
        state is not None
        and state.filter_result is not None
        and state.filter_result.best is not None
    )
    thumbnail = (
        signed(hass, snapshot_path(clip_id), THUMBNAIL_VALID) if has_snapshot else None
    )
    local = state is None or not (state.storage_uri or "").startswith("dropbox:")
    return ClipEntry(
        clip_id=clip_id, title=" · ".join(parts), thumbnail=thumbnail, local=local
    )
