"""HomeSec: camera clips turned into Home Assistant entities, events and alerts."""

from __future__ import annotations

import logging

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .adapters.alert_text import AlertWording
from .const import DOMAIN
from .data import HomeSecConfigEntry
from .hub_setup import async_create_hub
from .links import async_remove_link_key
from .migration import async_migrate
from .persisted_state import async_remove_persisted_state
from .runtime import LIMITS_APPLIED
from .services import async_setup_services
from .user_errors import user_reason
from .views import register_views

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
]


CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register HomeSec's actions and views; load the words of its alerts."""
    async_setup_services(hass)
    register_views(hass)
    await AlertWording(hass).async_load()  # cached for the logbook
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HomeSecConfigEntry) -> bool:
    """Start the hub: state store, pipeline, entities, then clip sources."""
    data = await async_create_hub(hass, entry)
    runtime = data.runtime
    try:
        await runtime.async_start()
    except OSError as err:
        _LOGGER.warning("Cannot create the clip spool: %s", err)
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key="spool_unavailable",
            translation_placeholders={
                "path": str(data.engine.spool.root),
                "error": user_reason(hass, err),
            },
        ) from err
    entry.runtime_data = data
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await runtime.async_start_sources()

    async def _stop(_: Event) -> None:
        await runtime.async_stop()

    entry.async_on_unload(hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _stop))
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: HomeSecConfigEntry) -> bool:
    """Bring the hub's stored settings up to this version."""
    return await async_migrate(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: HomeSecConfigEntry) -> bool:
    """Unload entities, then stop the engine (spooled clips stay on disk)."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.runtime.async_stop()
    return unloaded


async def _async_entry_updated(hass: HomeAssistant, entry: HomeSecConfigEntry) -> None:
    """A camera's change applies to that camera alone; the hub's reloads it."""
    if not await entry.runtime_data.runtime.async_apply_entry(entry):
        hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_remove_entry(hass: HomeAssistant, entry: HomeSecConfigEntry) -> None:
    """Remove the hub's repair issues, its saved state and its link key."""
    hass.data.get(LIMITS_APPLIED, {}).pop(entry.entry_id, None)
    registry = ir.async_get(hass)
    for domain, issue_id in list(registry.issues):
        if domain == DOMAIN:
            ir.async_delete_issue(hass, DOMAIN, issue_id)
    await async_remove_persisted_state(hass, entry.entry_id)
    await async_remove_link_key(hass, entry.entry_id)
