"""What every step of the hub flow shares: checked forms, secrets, reauthentication."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.core import HomeAssistant
import probatio

from .const import CONF_MODEL_UPLOAD
from .credential_services import async_check_all, configured
from .hub_fields import FIELD_EXAMPLES, SECRETS
from .selectors import PASSWORD
from .settings import HubSettings

UNSHOWN = {CONF_MODEL_UPLOAD}
"""Not shown again: an upload is gone once it was read."""

type Check = Callable[[HomeAssistant, HubSettings], Awaitable[dict[str, str]]]
type NextStep = Callable[[], Awaitable[ConfigFlowResult]]


class HubFlowBase(ConfigFlow):
    """The hub flow's shared steps and forms (the flow itself adds the rest)."""

    def __init__(self) -> None:
        """Nothing entered yet."""
        self._data: dict[str, Any] = {}

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """A stored credential was refused."""
        self._data = dict(entry_data)
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enter the refused credentials again (empty fields keep theirs)."""
        services = configured(HubSettings.from_data(self._data))
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._data | {k: v for k, v in user_input.items() if v}
            errors = await async_check_all(
                self.hass, services, HubSettings.from_data(data)
            )
            if not errors:
                return self.async_update_reload_and_abort(
                    self._get_reauth_entry(), data=data
                )
        fields = {
            probatio.Optional(field): PASSWORD
            for service in services
            for field in service.fields
        }
        entry = self._get_reauth_entry()
        hub = getattr(entry, "runtime_data", None)
        refused = hub.health.refusals.services if hub is not None else []
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=probatio.Schema(fields),
            errors=errors,
            description_placeholders={
                "services": ", ".join(refused or [s.key for s in services]),
            },
        )

    async def _checked_step(
        self,
        step_id: str,
        fields: dict[Any, Any],
        user_input: dict[str, Any] | None,
        check: Check,
        next_step: NextStep,
    ) -> ConfigFlowResult:
        """A form whose input is checked before the flow goes on."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._data | user_input
            errors = await check(self.hass, HubSettings.from_data(data))
            if not errors:
                self._data = data
                return await next_step()
        return self._form(step_id, fields, errors, user_input)

    def _secret(self, key: str) -> probatio.Marker:
        """Required, unless one is stored already (empty keeps it)."""
        if self._data.get(key):
            return probatio.Optional(key)
        return probatio.Required(key)

    def _form(
        self,
        step_id: str,
        fields: dict[Any, Any],
        errors: dict[str, str] | None = None,
        user_input: Mapping[str, Any] | None = None,
        placeholders: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        """A form showing the current values (or the last input), never secrets.

        Reconfiguring, a step with stored secrets is ``reconfigure_<step>``:
        its texts say that empty fields keep them.
        """
        shown = {**self._data, **(user_input or {})}
        stored = {key for key in SECRETS if self._data.get(key)}
        if self.source == SOURCE_RECONFIGURE and stored & {str(k) for k in fields}:
            step_id = f"reconfigure_{step_id}"
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(fields),
                {k: v for k, v in shown.items() if k not in SECRETS | UNSHOWN},
            ),
            errors=errors or {},
            description_placeholders=FIELD_EXAMPLES
            if placeholders is None
            else placeholders,
        )
