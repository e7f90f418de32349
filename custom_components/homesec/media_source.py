"""HomeSec media source: the clip library, and the frames an AI Task analyzes.

Browse: cameras -> days -> clips (pages of ``PAGE_SIZE``), titled in Home
Assistant's language with the time, what was detected, the model's activity
and risk and the file's original name, with snapshot thumbnails. A clip whose
processing failed says so and shows a warning icon; one that is not a video is
not offered to play. Local clips play in Home Assistant; clips only kept in
Dropbox link out to Dropbox. ``frames/<clip>/<n>.jpg`` resolves the frames
HomeSec hands to AI Task while a clip is analysed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
import re

from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant

from .adapters.alert_text import AlertWording
from .clip_access import RemoteClip
from .clip_library import ClipEntry, async_days, async_page, day_title
from .const import DOMAIN, FRAMES_PATH
from .content_types import content_type
from .data import HomeSecData
from .engine.snapshots import CLIP_ID
from .links import clip_path

FRAME_ID = re.compile(r"^frames/(?P<clip>[A-Za-z0-9_\-]{1,200})/(?P<n>\d{1,2})\.jpg$")
DAY_PAGE = re.compile(
    r"^camera/(?P<camera>[a-z0-9_]+)/(?P<day>\d{4}-\d{2}-\d{2})(?:/(?P<page>\d+))?$"
)
CAMERA = re.compile(r"^camera/(?P<camera>[a-z0-9_]+)$")


async def async_get_media_source(hass: HomeAssistant) -> HomeSecMediaSource:
    """Set up the HomeSec media source."""
    return HomeSecMediaSource(hass)


def _folder(
    identifier: str | None, title: str, children: MediaClass = MediaClass.VIDEO
) -> BrowseMediaSource:
    """A folder; ``children`` is what it lists (its icon for them)."""
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.VIDEO,
        title=title,
        can_play=False,
        can_expand=True,
        children_media_class=children,
    )


class HomeSecMediaSource(MediaSource):
    """Browses the clip library and resolves clips and analysis frames."""

    name = "HomeSec"

    def __init__(self, hass: HomeAssistant) -> None:
        """Serve the loaded hub's clips and ``<config>/homesec/frames``."""
        super().__init__(DOMAIN)
        self.hass = hass

    def _hub(self) -> HomeSecData:
        entries = self.hass.config_entries.async_loaded_entries(DOMAIN)
        if not entries:
            raise Unresolvable("HomeSec is not loaded")
        hub: HomeSecData = entries[0].runtime_data
        return hub

    def frame_path(self, identifier: str) -> Path:
        """The file of a frame identifier; Unresolvable for anything else."""
        match = FRAME_ID.match(identifier or "")
        if match is None:
            raise Unresolvable(f"Unknown HomeSec media {identifier!r}")
        root = Path(self.hass.config.path(FRAMES_PATH))
        return root / match["clip"] / f"{int(match['n'])}.jpg"

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """A clip (its view, or Dropbox), or an analysis frame (its file)."""
        identifier = item.identifier or ""
        if identifier.startswith("clip/"):
            return await self._resolve_clip(identifier.removeprefix("clip/"))
        path = self.frame_path(identifier)
        if not await self.hass.async_add_executor_job(path.is_file):
            raise Unresolvable(f"The frame {identifier} is gone")
        return PlayMedia(
            url=f"/media/homesec/{identifier}", mime_type="image/jpeg", path=path
        )

    async def _resolve_clip(self, clip_id: str) -> PlayMedia:
        if not CLIP_ID.match(clip_id):
            raise Unresolvable(f"Unknown clip {clip_id!r}")
        hub = self._hub()
        state = await hub.engine.repository.get(clip_id)
        if state is not None and state.failed and state.not_a_video:
            raise Unresolvable(f"The clip {clip_id} is not a video that can be played")
        found = await hub.clips.async_location(clip_id)
        if found is None:
            raise Unresolvable(f"The clip {clip_id} is no longer kept")
        if isinstance(found, RemoteClip):
            return PlayMedia(url=found.url, mime_type=found.mime_type)
        return PlayMedia(
            url=clip_path(clip_id), mime_type=content_type(found), path=found
        )

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Cameras, a camera's days, or a page of a day's clips."""
        identifier = item.identifier or ""
        hub = self._hub()
        if not identifier:
            root = _folder(None, "HomeSec", MediaClass.DIRECTORY)
            root.children = [
                _folder(f"camera/{camera.camera_id}", camera.title)
                for camera in sorted(hub.cameras.values(), key=lambda c: c.title)
            ]
            return root
        wording = AlertWording(self.hass)
        await wording.async_load()  # cached by Home Assistant after the first
        if match := CAMERA.match(identifier):
            camera_id = match["camera"]
            folder = _folder(
                identifier, hub.cameras.title(camera_id), MediaClass.DIRECTORY
            )
            folder.children = [
                _folder(
                    f"{identifier}/{day.isoformat()}",
                    wording.text(
                        "library_day_clips",
                        day=day_title(wording, day),
                        count=str(count),
                    ),
                )
                for day, count in await async_days(hub.engine.repository, camera_id)
            ]
            return folder
        if match := DAY_PAGE.match(identifier):
            return await self._day_page(
                hub, wording, match["camera"], date.fromisoformat(match["day"]),
                int(match["page"] or 0),
            )  # fmt: skip
        raise Unresolvable(f"Unknown HomeSec folder {identifier!r}")

    async def _day_page(
        self,
        hub: HomeSecData,
        wording: AlertWording,
        camera_id: str,
        day: date,
        page: int,
    ) -> BrowseMediaSource:
        entries, more = await async_page(
            self.hass, wording, hub.engine.repository, camera_id, day=day, page=page
        )
        base = f"camera/{camera_id}/{day.isoformat()}"
        title = wording.text(
            "library_camera_day",
            camera=hub.cameras.title(camera_id),
            day=day_title(wording, day),
        )
        folder = _folder(f"{base}/{page}" if page else base, title)
        folder.children = [_clip_item(entry) for entry in entries]
        if more:
            folder.children.append(
                _folder(f"{base}/{page + 1}", wording.text("library_older"))
            )
        return folder


def _clip_item(entry: ClipEntry) -> BrowseMediaSource:
    """A clip in the library: local clips play here, cloud ones link out."""
    if not entry.local:
        media_class, media_type = MediaClass.URL, MediaType.URL
    elif entry.image:
        media_class, media_type = MediaClass.IMAGE, MediaType.IMAGE
    else:
        media_class, media_type = MediaClass.VIDEO, MediaType.VIDEO
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=f"clip/{entry.clip_id}",
        media_class=media_class,
        media_content_type=media_type,
        title=entry.title,
        can_play=entry.playable,
        can_expand=False,
        thumbnail=entry.thumbnail,
    )
