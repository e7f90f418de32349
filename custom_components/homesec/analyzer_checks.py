"""Checks an analyzer configuration passes before it is saved."""

from __future__ import annotations

import logging

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import CONF_OPENAI_API_KEY, CONF_OPENAI_BASE_URL
from .engine.text import describe
from .settings import HubSettings

_LOGGER = logging.getLogger(__name__)
CHECK_TIMEOUT = 15


async def async_check_openai(
    hass: HomeAssistant, settings: HubSettings
) -> dict[str, str]:
    """List the server's models (a free request); return form errors."""
    url = settings.openai_base_url.rstrip("/") + "/models"
    headers = {}
    if key := settings.openai_api_key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        async with async_get_clientsession(hass).get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT)
        ) as response:
            if response.status in (401, 403):
                return {CONF_OPENAI_API_KEY: "invalid_auth"}
            if response.status != 200:
                return {CONF_OPENAI_BASE_URL: "cannot_connect"}
    except (TimeoutError, aiohttp.ClientError) as err:
        _LOGGER.info("The model server did not answer: %s", describe(err))
        return {CONF_OPENAI_BASE_URL: "cannot_connect"}
    return {}
