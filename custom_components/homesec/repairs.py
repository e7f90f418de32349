"""Repair flows: point HomeSec at its detection model, fix a failing camera."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import FlowType, RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry
from homeassistant.core import HomeAssistant
import probatio

from .const import CONF_MODEL_PATH, DOMAIN, ISSUE_SOURCE_FAILING, SUBENTRY_CAMERA
from .detector_kinds import DETECTOR_KINDS
from .model_picker import (
    ChosenModel,
    async_choose_model,
    async_model_fields,
    fitted_classes,
    model_placeholders,
)
from .settings import HubSettings, merged


class ModelMissingRepairFlow(RepairsFlow):
    """Ask for the model (found or uploaded), check that it loads, and save it."""

    def __init__(self, entry_id: str) -> None:
        """Fix the hub ``entry_id``."""
        self._entry_id = entry_id
        self._chosen: ChosenModel | None = None

    def _entry(self) -> ConfigEntry | None:
        return self.hass.config_entries.async_get_entry(self._entry_id)

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """A model under the config dir, or an upload, checked by loading it."""
        entry = self._entry()
        if entry is None:
            return self.async_abort(reason="entry_removed")
        kind = DETECTOR_KINDS[HubSettings.from_entry(entry).detector]
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = await async_choose_model(
                self.hass, kind, merged(entry), user_input
            )
            if isinstance(chosen, ChosenModel):
                self._chosen = chosen
                return await self.async_step_model()
            errors = chosen
        return self.async_show_form(
            step_id="init",
            data_schema=probatio.Schema(await async_model_fields(self.hass, kind)),
            errors=errors,
            description_placeholders={"path": str(entry.data.get(CONF_MODEL_PATH))},
        )

    async def async_step_model(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """What the model detects; saving it reloads the hub."""
        entry = self._entry()
        if entry is None:
            return self.async_abort(reason="entry_removed")
        assert self._chosen is not None
        chosen = self._chosen
        if user_input is None:
            return self.async_show_form(
                step_id="model",
                data_schema=probatio.Schema({}),
                description_placeholders=model_placeholders(
                    chosen.info, chosen.data[CONF_MODEL_PATH]
                ),
            )
        # Classes the new model does not know are dropped, wherever they are set.
        classes = fitted_classes(merged(entry), chosen.info.labels)
        options = {
            **entry.options,
            **{key: value for key, value in classes.items() if key in entry.options},
        }
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, **chosen.data, **classes}, options=options
        )
        return self.async_create_entry(data={})


class CameraRepairFlow(RepairsFlow):
    """Open the failing camera's own form (Reconfigure), to correct its source."""

    def __init__(self, entry_id: str, subentry_id: str) -> None:
        """Fix the camera ``subentry_id`` of the hub ``entry_id``."""
        self._entry_id = entry_id
        self._subentry_id = subentry_id

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Start the camera's reconfiguration and hand over to it."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        if self._subentry_id not in entry.subentries:
            return self.async_abort(reason="camera_removed")
        started = await self.hass.config_entries.subentries.async_init(
            (self._entry_id, SUBENTRY_CAMERA),
            context={"source": SOURCE_RECONFIGURE, "subentry_id": self._subentry_id},
        )
        return self.async_create_entry(
            data={}, next_flow=(FlowType.CONFIG_SUBENTRIES_FLOW, started["flow_id"])
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The flow that fixes ``issue_id``."""
    if data is None or "entry_id" not in data:
        raise ValueError(f"{DOMAIN} has no fix for {issue_id}")
    if issue_id.startswith(f"{ISSUE_SOURCE_FAILING}_"):
        return CameraRepairFlow(str(data["entry_id"]), str(data.get("subentry_id")))
    return ModelMissingRepairFlow(str(data["entry_id"]))
