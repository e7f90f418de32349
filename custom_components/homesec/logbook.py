"""Logbook lines for HomeSec's detection and alert events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .adapters.alert_text import AlertWording
from .const import DOMAIN, EVENT_ALERT, EVENT_DETECTION
from .engine.models import RiskLevel


def _camera_title(hass: HomeAssistant, camera_id: str) -> str:
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        return str(entry.runtime_data.cameras.title(camera_id))
    return camera_id


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, Any]]], None],
) -> None:
    """Describe homesec_detection and homesec_alert in the logbook."""

    @callback
    def _detection(event: Event) -> dict[str, Any]:
        wording = AlertWording.cached(hass)
        classes = event.data.get("detected_classes", [])
        seen = wording.labels(classes, capitalize=False)
        return {
            LOGBOOK_ENTRY_NAME: _camera_title(hass, event.data["camera_name"]),
            LOGBOOK_ENTRY_MESSAGE: wording.text("logbook_detected", seen=seen),
        }

    @callback
    def _alert(event: Event) -> dict[str, Any]:
        data = event.data
        wording = AlertWording.cached(hass)
        what = data.get("summary") or data.get("notify_reason") or ""
        if risk := data.get("risk_level"):
            line = wording.text(
                "logbook_alert_risk", what=what, risk=wording.risk(RiskLevel(risk))
            )
        else:
            line = wording.text("logbook_alert", what=what)
        return {
            LOGBOOK_ENTRY_NAME: _camera_title(hass, data["camera_name"]),
            LOGBOOK_ENTRY_MESSAGE: line,
        }

    async_describe_event(DOMAIN, EVENT_DETECTION, _detection)
    async_describe_event(DOMAIN, EVENT_ALERT, _alert)
