"""HomeSec media source: the frames an AI Task analyzes.

AI Task resolves attachments through media sources, so the frames HomeSec
selects for a clip are offered as ``media-source://homesec/frames/<clip>/<n>.jpg``
for as long as the analysis runs. The browsable clip library is planned.
"""

from __future__ import annotations

from pathlib import Path
import re

from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant

from .const import DOMAIN, FRAMES_PATH

FRAME_ID = re.compile(r"^frames/(?P<clip>[A-Za-z0-9_\-]{1,200})/(?P<n>\d{1,2})\.jpg$")


async def async_get_media_source(hass: HomeAssistant) -> HomeSecMediaSource:
    """Set up the HomeSec media source."""
    return HomeSecMediaSource(hass)


class HomeSecMediaSource(MediaSource):
    """Resolves analysis frames to their files."""

    name = "HomeSec"

    def __init__(self, hass: HomeAssistant) -> None:
        """Serve files under ``<config>/homesec/frames``."""
        super().__init__(DOMAIN)
        self.hass = hass

    def frame_path(self, identifier: str) -> Path:
        """The file of a frame identifier; Unresolvable for anything else."""
        match = FRAME_ID.match(identifier or "")
        if match is None:
            raise Unresolvable(f"Unknown HomeSec media {identifier!r}")
        root = Path(self.hass.config.path(FRAMES_PATH))
        return root / match["clip"] / f"{int(match['n'])}.jpg"

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Resolve a frame to its local file."""
        path = self.frame_path(item.identifier)
        if not await self.hass.async_add_executor_job(path.is_file):
            raise Unresolvable(f"The frame {item.identifier} is gone")
        return PlayMedia(
            url=f"/media/homesec/{item.identifier}", mime_type="image/jpeg", path=path
        )

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Nothing to browse yet: frames exist only while a clip is analysed."""
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=None,
            media_class=MediaClass.DIRECTORY,
            media_content_type="",
            title="HomeSec",
            can_play=False,
            can_expand=True,
            children=[],
            children_media_class=MediaClass.VIDEO,
        )
