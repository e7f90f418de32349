"""Checks the hub's storage and state store pass before they are saved."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from homeassistant.core import HomeAssistant
from sqlalchemy.exc import ArgumentError

from .builder import state_store, storage
from .const import (
    CONF_DROPBOX_REFRESH_TOKEN,
    CONF_POSTGRES_DSN,
    CONF_STORAGE_PATH,
)
from .engine.errors import CredentialsRejected
from .engine.text import first_line
from .settings import HubSettings
from .source_checks import overlaps

_LOGGER = logging.getLogger(__name__)
CHECK_TIMEOUT = 20


async def async_check_local(
    hass: HomeAssistant, settings: HubSettings
) -> dict[str, str]:
    """Create the storage folder and write a file in it; return form errors."""
    config_dir = Path(hass.config.config_dir)
    root = settings.storage_folder(config_dir)
    others = [
        path
        for name, path in settings.own_folders(config_dir).items()
        if name != "clips"
    ]
    if await hass.async_add_executor_job(overlaps, root, others):
        return {CONF_STORAGE_PATH: "folder_overlaps_homesec"}
    if not await hass.async_add_executor_job(_writable, root):
        return {CONF_STORAGE_PATH: "folder_not_writable"}
    return {}


def _writable(root: Path) -> bool:
    probe = root / ".homesec_write_check"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        _LOGGER.info("Cannot write in %s: %s", root, err.strerror or err)
        return False
    return True


async def async_check_dropbox(
    hass: HomeAssistant, settings: HubSettings
) -> dict[str, str]:
    """Ask Dropbox who the credentials belong to; return form errors."""
    dropbox = storage(
        settings, Path(hass.config.config_dir), hass.async_add_executor_job
    )
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            reachable = await dropbox.ping()
    except CredentialsRejected:
        return {CONF_DROPBOX_REFRESH_TOKEN: "invalid_auth"}
    except TimeoutError:
        reachable = False
    finally:
        await dropbox.close()
    return {} if reachable else {"base": "cannot_connect"}


async def async_check_postgres(
    hass: HomeAssistant, settings: HubSettings
) -> dict[str, str]:
    """Connect and create HomeSec's tables; return form errors."""
    store = state_store(
        settings, Path(hass.config.config_dir), hass.async_add_executor_job
    )
    if not store.is_postgres:
        return {CONF_POSTGRES_DSN: "invalid_dsn"}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await store.start()
    except Exception as err:  # noqa: BLE001 - every failure is reported on the form
        if store.rejects_credentials(err):
            return {CONF_POSTGRES_DSN: "invalid_auth"}
        if isinstance(err.__cause__, ArgumentError | ValueError):
            return {CONF_POSTGRES_DSN: "invalid_dsn"}
        _LOGGER.info("Postgres did not answer: %s", first_line(err))
        return {CONF_POSTGRES_DSN: "cannot_connect"}
    finally:
        await store.close()
    return {}
