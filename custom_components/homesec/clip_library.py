"""The clip library behind HomeSec's media source: cameras, days, pages of clips.

Days come from clip ids (``<camera>_<YYYYMMDD_HHMMSS>``, UTC), so listing a
camera reads ids only; a page reads at most ``PAGE_SIZE`` clip states. Titles
use the ``common`` strings of HomeSec's translations (Home Assistant's
language), the same texts as notifications.
"""

from __future__ import annotations

from base64 import b64encode
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import PurePath

from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util

from .adapters.alert_text import AlertWording
from .content_types import content_type
from .engine.clip_names import clip_start, start_order
from .engine.models import ClipState
from .engine.repository import ClipRepository
from .links import signed, snapshot_path

PAGE_SIZE = 100
THUMBNAIL_VALID = timedelta(hours=12)
_FAILED_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
    '<path fill="#db4437" d="M11,15H13V17H11V15M11,7H13V13H11V7M12,2C6.47,2 2,6.5 '
    "2,12A10,10 0 0,0 12,22A10,10 0 0,0 22,12A10,10 0 0,0 12,2M12,20A8,8 0 0,1 "
    '4,12A8,8 0 0,1 12,4A8,8 0 0,1 20,12A8,8 0 0,1 12,20Z"/></svg>'
)
FAILED_ICON = "data:image/svg+xml;base64," + b64encode(_FAILED_SVG.encode()).decode()
"""The thumbnail of a clip whose processing failed (Material Design's
alert-circle-outline, drawn inline: the media browser shows SVG data URLs)."""


@dataclass(frozen=True, slots=True)
class ClipEntry:
    """One clip as the library shows it."""

    clip_id: str
    title: str
    thumbnail: str | None
    local: bool
    """Kept on this machine (else only in cloud storage)."""
    failed: bool
    """Its processing failed."""
    playable: bool
    """Worth offering to play: not a failed clip that is not a video."""
    image: bool
    """A picture (a camera uploaded a still), not a video."""


def local_day(clip_id: str) -> date | None:
    """The local calendar day a clip started on."""
    started = clip_start(clip_id)
    return dt_util.as_local(started).date() if started else None


def day_title(wording: AlertWording, day: date) -> str:
    """A day as the library names it, such as ``Sun 22 Nov 2026``."""
    return wording.text(
        "library_day",
        weekday=wording.text(f"weekday_{day.isoweekday()}"),
        day=str(day.day),
        month=wording.text(f"month_{day.month}"),
        year=str(day.year),
    )


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
    wording: AlertWording,
    repository: ClipRepository,
    camera_id: str,
    *,
    day: date,
    page: int,
) -> tuple[list[ClipEntry], bool]:
    """One page of a day's clips, newest first, and whether more pages follow."""
    ids = await repository.clip_ids(camera_id) or []
    of_day = sorted(
        (i for i in ids if local_day(i) == day), key=start_order, reverse=True
    )
    chunk = of_day[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    states = await repository.get_many(chunk) or {}
    entries = [_entry(hass, wording, clip_id, states.get(clip_id)) for clip_id in chunk]
    return entries, len(of_day) > (page + 1) * PAGE_SIZE


def _title(wording: AlertWording, when: str, state: ClipState | None) -> str:
    """When, what went wrong or was seen, the model's take, the file's name."""
    if state is None:
        return when
    parts = [when]
    if state.failed:
        parts.append(
            wording.text(
                "library_not_a_video" if state.not_a_video else "library_failed"
            )
        )
    if (found := state.filter_result) is not None:
        parts.append(
            wording.labels(found.detected_classes, capitalize=False)
            if found.detected_classes
            else wording.text("library_no_detection")
        )
        if found.stationary:
            parts.append(wording.text("library_stationary"))
    if (analysis := state.analysis) is not None:
        parts.append(
            wording.text(
                "library_activity",
                activity=wording.activity(analysis.activity_type),
                risk=wording.risk(analysis.risk_level),
            )
        )
    if state.original_name:
        parts.append(state.original_name)
    return " · ".join(parts)


def _entry(
    hass: HomeAssistant, wording: AlertWording, clip_id: str, state: ClipState | None
) -> ClipEntry:
    started = clip_start(clip_id)
    when = dt_util.as_local(started).strftime("%H:%M:%S") if started else clip_id
    failed = state is not None and state.failed
    has_snapshot = state is not None and state.has_snapshot
    thumbnail = (
        signed(hass, snapshot_path(clip_id), THUMBNAIL_VALID)
        if has_snapshot
        else (FAILED_ICON if failed else None)
    )
    local = state is None or not (state.storage_uri or "").startswith("dropbox:")
    image = state is not None and content_type(PurePath(state.local_path)).startswith(
        "image/"
    )
    return ClipEntry(
        clip_id=clip_id,
        title=_title(wording, when, state),
        thumbnail=thumbnail,
        local=local,
        failed=failed,
        playable=not (failed and state is not None and state.not_a_video),
        image=image,
    )
