"""URLs of clips and snapshots: stable (authenticated) and signed (expiring)."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.components.http.auth import async_sign_path
from homeassistant.core import HomeAssistant, callback

CLIP_PATH = "/api/homesec/clips/{clip_id}"
SNAPSHOT_PATH = "/api/homesec/snapshots/{clip_id}"
SIGNED_FOR = timedelta(days=7)


def clip_path(clip_id: str) -> str:
    """The stable URL of a clip (needs Home Assistant authentication)."""
    return CLIP_PATH.format(clip_id=clip_id)


def snapshot_path(clip_id: str) -> str:
    """The stable URL of a clip's snapshot (needs authentication)."""
    return SNAPSHOT_PATH.format(clip_id=clip_id)


@callback
def signed(hass: HomeAssistant, path: str, valid: timedelta = SIGNED_FOR) -> str:
    """``path`` with a signature that lets its holder fetch it until it expires."""
    return async_sign_path(hass, path, valid, use_content_user=True)
