"""Diagnostics of a HomeSec hub, with every secret redacted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_PASSWORD, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .const import (
    CONF_CAMERA_ID,
    CONF_DROPBOX_ACCESS_TOKEN,
    CONF_DROPBOX_APP_SECRET,
    CONF_DROPBOX_REFRESH_TOKEN,
    CONF_OPENAI_API_KEY,
    CONF_REMOTE_API_KEY,
)
from .data import HomeSecConfigEntry
from .engine.redact import redact_data
from .settings import merged

TO_REDACT = {
    CONF_PASSWORD,
    CONF_USERNAME,
    CONF_DROPBOX_ACCESS_TOKEN,
    CONF_DROPBOX_APP_SECRET,
    CONF_DROPBOX_REFRESH_TOKEN,
    CONF_OPENAI_API_KEY,
    CONF_REMOTE_API_KEY,
}


def _camera_data(data: Mapping[str, Any]) -> dict[str, Any]:
    return dict(async_redact_data(dict(data), TO_REDACT))


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HomeSecConfigEntry
) -> dict[str, Any]:
    """Configuration, health and usage of the hub."""
    data = dict(async_redact_data(merged(entry), TO_REDACT))
    hub = entry.runtime_data
    engine = hub.engine
    health = hub.health.health()
    retention = hub.runtime.last_retention
    history_prune = hub.runtime.last_history_prune
    # Every string (URLs, DSNs, errors quoting them) loses its credentials.
    return redact_data(  # type: ignore[no-any-return]
        {
            "entry": data,
            "cameras": [
                {
                    "title": sub.title,
                    "data": _camera_data(sub.data),
                    "source_problem": hub.health.source_problem(
                        str(sub.data.get(CONF_CAMERA_ID))
                    ),
                }
                for sub in entry.subentries.values()
            ],
            "health": {"status": health.status.value, "checks": health.checks},
            "state_store_error": engine.repository.last_error,
            "storage_reachable": hub.health.storage_reachable,
            "credentials_refused": hub.health.refusals.services,
            "pending_state_writes": engine.repository.pending,
            "clips_in_flight": engine.pipeline.in_flight,
            "detector": type(engine.detector).__name__,
            "analyzer_today": {
                "calls": engine.budget.calls,
                "tokens": engine.budget.tokens,
                "estimated_cost": engine.budget.cost,
            },
            "last_retention": retention.model_dump() if retention else None,
            "last_history_prune": (
                history_prune.model_dump() if history_prune else None
            ),
        }
    )
