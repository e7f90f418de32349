"""URLs of clips and snapshots: stable (authenticated) and signed (expiring).

Links in notifications are signed with a key HomeSec keeps in its own storage
(``.storage/homesec.<entry_id>.links``), so they stay valid for their whole
lifetime across restarts; Home Assistant's own signed paths die at a restart.
The signature is an HMAC over the path (which names the clip) and the expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import hashlib
import hmac
import logging
import secrets
from typing import Any

from homeassistant.components.http.auth import async_sign_path
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

CLIP_PATH = "/api/homesec/clips/{clip_id}"
SNAPSHOT_PATH = "/api/homesec/snapshots/{clip_id}"
SIGNED_FOR = timedelta(days=7)
EXPIRES = "expires"
SIGNATURE = "sig"
KEY_BYTES = 32
STORAGE_VERSION = 1


def clip_path(clip_id: str) -> str:
    """The stable URL of a clip (needs Home Assistant authentication)."""
    return CLIP_PATH.format(clip_id=clip_id)


def snapshot_path(clip_id: str) -> str:
    """The stable URL of a clip's snapshot (needs authentication)."""
    return SNAPSHOT_PATH.format(clip_id=clip_id)


@callback
def signed(hass: HomeAssistant, path: str, valid: timedelta = SIGNED_FOR) -> str:
    """``path`` signed by Home Assistant (for the frontend; dies at a restart)."""
    return async_sign_path(hass, path, valid, use_content_user=True)


class LinkSigner:
    """Signs paths with HomeSec's key and checks signed requests."""

    def __init__(
        self, key: bytes, now: Callable[[], datetime] = dt_util.utcnow
    ) -> None:
        """Sign with ``key``; ``now`` dates the expiries."""
        self._key = key
        self._now = now

    def sign(self, path: str, valid: timedelta = SIGNED_FOR) -> str:
        """``path`` with an expiry and a signature over both."""
        expires = int((self._now() + valid).timestamp())
        return f"{path}?{EXPIRES}={expires}&{SIGNATURE}={self._mac(path, expires)}"

    def has_signature(self, query: Mapping[str, str]) -> bool:
        """Whether a request carries a HomeSec signature at all."""
        return SIGNATURE in query

    def verify(self, path: str, query: Mapping[str, str]) -> bool:
        """Whether ``query`` signs ``path`` and has not expired."""
        try:
            expires = int(query.get(EXPIRES, ""))
        except ValueError:
            return False
        given = query.get(SIGNATURE, "").encode()
        valid = hmac.compare_digest(given, self._mac(path, expires).encode())
        return valid and self._now().timestamp() < expires

    def _mac(self, path: str, expires: int) -> str:
        message = f"{path}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class AlertLinks:
    """The signed links of a notification; a snapshot only when there is one."""

    clip: str
    snapshot: str | None


def alert_links(
    hass: HomeAssistant,
    signer: LinkSigner,
    clip_id: str,
    *,
    snapshot: bool,
    absolute: bool = False,
) -> AlertLinks:
    """A clip's signed links; ``absolute`` ones (for mail) when a URL is known.

    Home Assistant's apps and frontend resolve paths against their server; a
    mail or a text message needs the whole address, which Home Assistant knows
    when its external or internal URL is set (else the path is all there is).
    """
    base = ""
    if absolute:
        try:
            base = get_url(hass, prefer_external=True)
        except NoURLAvailableError:
            base = ""
    return AlertLinks(
        clip=base + signer.sign(clip_path(clip_id)),
        snapshot=base + signer.sign(snapshot_path(clip_id)) if snapshot else None,
    )


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.links", private=True)


async def async_link_signer(hass: HomeAssistant, entry_id: str) -> LinkSigner:
    """The hub's signer, with the key made once and kept in its storage."""
    store = _store(hass, entry_id)
    data = await store.async_load()
    try:
        key = bytes.fromhex(str((data or {})["key"]))
    except KeyError, TypeError, ValueError:
        key = b""
    if len(key) < KEY_BYTES:
        if data is not None:
            _LOGGER.warning(
                "HomeSec's link key could not be read; links sent before stop working"
            )
        key = secrets.token_bytes(KEY_BYTES)
        await store.async_save({"key": key.hex()})
    return LinkSigner(key)


async def async_remove_link_key(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a removed hub's link key (its links stop working)."""
    await _store(hass, entry_id).async_remove()
