"""Authenticated views of clips and snapshots, with signed, expiring links."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import PurePath

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView

from .clip_access import ClipAccess
from .const import DOMAIN
from .engine.snapshots import CLIP_ID
from .links import CLIP_PATH, SNAPSHOT_PATH
from .zone_preview import ZonePreviewView

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


def _clips(hass: HomeAssistant, clip_id: str) -> ClipAccess | None:
    """The loaded hub's clips, when ``clip_id`` is a clip id at all."""
    entries = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries or not CLIP_ID.match(clip_id):
        return None
    clips: ClipAccess = entries[0].runtime_data.clips
    return clips


class _ClipFileView(HomeAssistantView):
    """A view of one clip's files (authenticated, or a signed link)."""

    requires_auth = True

    async def get(self, request: web.Request, clip_id: str) -> web.StreamResponse:
        """404 unless HomeSec is loaded and ``clip_id`` is a clip id."""
        clips = _clips(request.app["hass"], clip_id)
        if clips is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return await self.serve(clips, clip_id)

    async def serve(self, clips: ClipAccess, clip_id: str) -> web.StreamResponse:
        """The response for a clip id."""
        raise NotImplementedError


class ClipView(_ClipFileView):
    """A clip: the spool or local copy, or a redirect to its Dropbox page."""

    url = CLIP_PATH
    name = "api:homesec:clip"

    async def serve(self, clips: ClipAccess, clip_id: str) -> web.StreamResponse:
        """Serve the clip file."""
        found = await clips.async_location(clip_id)
        if found is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        if isinstance(found, str):
            raise web.HTTPFound(found)
        return web.FileResponse(
            found,
            headers={
                "Content-Type": content_type(found),
                "X-Content-Type-Options": "nosniff",
            },
        )


class SnapshotView(_ClipFileView):
    """A clip's annotated detection snapshot (JPEG)."""

    url = SNAPSHOT_PATH
    name = "api:homesec:snapshot"

    async def serve(self, clips: ClipAccess, clip_id: str) -> web.StreamResponse:
        """Serve the snapshot."""
        jpeg = await clips.async_snapshot(clip_id)
        if jpeg is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.Response(body=jpeg, content_type="image/jpeg")


def register_views(hass: HomeAssistant) -> None:
    """Register the views (once, with the integration)."""
    hass.http.register_view(ClipView())
    hass.http.register_view(SnapshotView())
    hass.http.register_view(ZonePreviewView())
