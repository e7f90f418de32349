"""Repair flows: point HomeSec at its detection model again."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import TextSelector
import probatio

from .const import CONF_MODEL_PATH, DOMAIN
from .detector_kinds import async_check_model
from .settings import HubSettings, merged


class ModelMissingRepairFlow(RepairsFlow):
    """Ask for the model file, check that it loads, and save it."""

    def __init__(self, entry_id: str) -> None:
        """Fix the hub ``entry_id``."""
        self._entry_id = entry_id

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """The model path, checked by loading the model."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        errors: dict[str, str] = {}
        if user_input is not None:
            settings = HubSettings.from_data({**merged(entry), **user_input})
            errors = await async_check_model(self.hass, settings)
            if not errors:
                self.hass.config_entries.async_update_entry(
                    entry, data={**entry.data, **user_input}
                )
                return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="init",
            data_schema=probatio.Schema(
                {probatio.Required(CONF_MODEL_PATH): TextSelector()}
            ),
            errors=errors,
            description_placeholders={"path": str(entry.data.get(CONF_MODEL_PATH))},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The flow that fixes ``issue_id``."""
    if data is None or "entry_id" not in data:
        raise ValueError(f"{DOMAIN} has no fix for {issue_id}")
    return ModelMissingRepairFlow(str(data["entry_id"]))
