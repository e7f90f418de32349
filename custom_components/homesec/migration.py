"""Stored settings brought up to date when Home Assistant loads the hub."""

from __future__ import annotations

import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import CONF_NOTIFY_ON_MOTION, SUBENTRY_CAMERA
from .field_values import motion_choice

_LOGGER = logging.getLogger(__name__)

CURRENT_MINOR_VERSION = 2
"""1.2: a camera's "Alert on any motion" is Default, On or Off (was on/off)."""


async def async_migrate(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Migrate the hub's entry and its cameras; False for a newer version."""
    if entry.version > 1:
        return False  # saved by a newer HomeSec: never guess
    if entry.minor_version < 2:
        for subentry in list(entry.subentries.values()):
            if subentry.subentry_type != SUBENTRY_CAMERA:
                continue
            stored = subentry.data.get(CONF_NOTIFY_ON_MOTION)
            data = {**subentry.data, CONF_NOTIFY_ON_MOTION: motion_choice(stored)}
            hass.config_entries.async_update_subentry(entry, subentry, data=data)
        hass.config_entries.async_update_entry(entry, minor_version=2)
        _LOGGER.debug("Cameras' alert on any motion migrated to a choice")
    return True
