"""The camera form's picture of its zones and masks, served by a short-lived link.

The form shows it as a markdown image in its description: the camera's latest
snapshot (a grey frame without one) with the areas drawn. Each picture is kept
in memory under a random token for ``PREVIEW_FOR``, and its link is signed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import timedelta
from http import HTTPStatus
import secrets
import time

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .engine.detect.zone_drawing import draw_areas
from .engine.detect.zones import Polygon, Zone
from .links import signed

PREVIEW_PATH = "/api/homesec/zone_previews/{token}"
PREVIEW_FOR = timedelta(minutes=15)
MAX_PREVIEWS = 16
_PREVIEWS: HassKey[ZonePreviews] = HassKey(f"{DOMAIN}_zone_previews")


class ZonePreviews:
    """The newest pictures by token (at most ``MAX_PREVIEWS``, each for a while)."""

    def __init__(self) -> None:
        """Start empty."""
        self._images: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def add(self, png: bytes) -> str:
        """Keep a picture; return its token."""
        self._prune()
        token = secrets.token_urlsafe(16)
        self._images[token] = (time.monotonic() + PREVIEW_FOR.total_seconds(), png)
        while len(self._images) > MAX_PREVIEWS:
            self._images.popitem(last=False)
        return token

    def get(self, token: str) -> bytes | None:
        """The picture of a token, unless it expired."""
        self._prune()
        found = self._images.get(token)
        return found[1] if found else None

    def _prune(self) -> None:
        now = time.monotonic()
        for token in [t for t, (until, _) in self._images.items() if until <= now]:
            del self._images[token]


def previews(hass: HomeAssistant) -> ZonePreviews:
    """Home Assistant's zone pictures."""
    if (found := hass.data.get(_PREVIEWS)) is None:
        found = hass.data[_PREVIEWS] = ZonePreviews()
    return found


async def async_preview(
    hass: HomeAssistant,
    snapshot: bytes | None,
    zones: Sequence[Zone],
    masks: Sequence[Polygon],
) -> str:
    """Draw the areas over ``snapshot``; return the picture's signed URL."""
    png = await hass.async_add_executor_job(draw_areas, snapshot, zones, masks)
    token = previews(hass).add(png)
    return signed(hass, PREVIEW_PATH.format(token=token), PREVIEW_FOR)


class ZonePreviewView(HomeAssistantView):
    """A zone picture (authenticated, or a signed link)."""

    requires_auth = True
    url = PREVIEW_PATH
    name = "api:homesec:zone_preview"

    async def get(self, request: web.Request, token: str) -> web.Response:
        """The PNG, or 404 once expired."""
        png = previews(request.app["hass"]).get(token)
        if png is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        return web.Response(body=png, content_type="image/png")
