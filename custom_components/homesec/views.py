"""Views of clips and snapshots: for Home Assistant users, or by a signed link."""

from __future__ import annotations

from http import HTTPStatus

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_AUTHENTICATED, KEY_HASS, HomeAssistantView

from .clip_access import ClipAccess, RemoteClip
from .const import DOMAIN
from .content_types import content_type
from .data import HomeSecData
from .engine.snapshots import CLIP_ID
from .links import CLIP_PATH, SNAPSHOT_PATH
from .zone_preview import ZonePreviewView


def _hub(hass: HomeAssistant) -> HomeSecData | None:
    """The loaded hub, if any."""
    entries = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        return None
    hub: HomeSecData = entries[0].runtime_data
    return hub


class _ClipFileView(HomeAssistantView):
    """A view of one clip's files.

    Open to Home Assistant users (a login, or a path Home Assistant signed) and
    to holders of a link HomeSec signed for this very path, until it expires.
    """

    requires_auth = False

    async def get(self, request: web.Request, clip_id: str) -> web.StreamResponse:
        """401 without any credential, 403 with a bad or expired signature."""
        hub = _hub(request.app[KEY_HASS])
        if not request.get(KEY_AUTHENTICATED, False):
            if hub is None or not hub.links.has_signature(request.query):
                return web.Response(status=HTTPStatus.UNAUTHORIZED)
            if not hub.links.verify(request.path, request.query):
                return web.Response(status=HTTPStatus.FORBIDDEN)
        if hub is None or not CLIP_ID.match(clip_id):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return await self.serve(hub.clips, clip_id)

    async def head(self, request: web.Request, clip_id: str) -> web.StreamResponse:
        """The GET answer's status and headers, without its body.

        Players and link checkers ask HEAD first; aiohttp leaves the body out.
        """
        return await self.get(request, clip_id)

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
        if isinstance(found, RemoteClip):
            raise web.HTTPFound(found.url)
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
