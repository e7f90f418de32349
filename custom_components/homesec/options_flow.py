"""Options flow: what can change without setting the hub up again."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
import probatio

from .adapters.notify_targets import PHONE_PREFIX
from .const import (
    ANALYZER_NONE,
    CONF_MQTT_QOS,
    CONF_MQTT_RETAIN,
    CONF_MQTT_TOPIC,
    DETECTOR_MOTION,
)
from .hub_fields import (
    alert_errors,
    alert_fields,
    budget_fields,
    history_fields,
    live_fields,
    notify_services,
    phone_fields,
    rules_fields,
    stationary_fields,
    store_errors,
    store_fields,
)
from .settings import HubSettings, merged

MQTT = {CONF_MQTT_TOPIC, CONF_MQTT_QOS, CONF_MQTT_RETAIN}


class HubOptionsFlow(OptionsFlow):
    """Notification targets, alert policy, retention, rules and budgets."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form with everything that can change without re-adding the hub."""
        errors = (
            alert_errors(user_input) | store_errors(user_input)
            if user_input is not None
            else {}
        )
        current = merged(self.config_entry) | (user_input or {})
        settings = HubSettings.from_data(current)
        fields = self._fields(settings)
        if user_input is not None and not errors:
            # Options this form does not show now (no summary model, no MQTT)
            # keep their values for when they apply again.
            shown = {str(key) for key in fields}
            hidden = {
                key: value
                for key, value in self.config_entry.options.items()
                if key not in shown
            }
            return self.async_create_entry(data=hidden | user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(fields), current
            ),
            errors=errors,
        )

    def _fields(self, settings: HubSettings) -> dict[Any, Any]:
        """What applies to this hub: its detector, analyzer, targets and MQTT."""
        alerts = alert_fields(self.hass, settings)
        # Limits next to the spool's, MQTT last.
        fields = {key: field for key, field in alerts.items() if key not in MQTT}
        services = {*settings.notify_services, *notify_services(self.hass)}
        if any(service.startswith(PHONE_PREFIX) for service in services):
            fields |= phone_fields()  # only where there is a phone to tell
        fields |= store_fields(settings.storage_type) | history_fields()
        if settings.detector != DETECTOR_MOTION:
            fields |= rules_fields(settings.class_choices)
            fields |= stationary_fields() | live_fields()
        if settings.analyzer != ANALYZER_NONE:
            fields |= budget_fields()
        fields |= {key: field for key, field in alerts.items() if key in MQTT}
        return fields
