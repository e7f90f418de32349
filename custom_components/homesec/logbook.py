"""Logbook lines for HomeSec's detection and alert events.

Each line names the camera, links to its picture entity (what a user opens to
see it) and has an icon for what was seen or for the alert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, callback

from .adapters.alert_text import AlertWording
from .camera_refs import camera_refs
from .const import DOMAIN, EVENT_ALERT, EVENT_DETECTION
from .engine.models import RiskLevel

DETECTION_ICONS = {
    "person": "mdi:account",
    "vehicle": "mdi:car",
    "animal": "mdi:paw",
}
"""Icons of the classes a detection line shows, the first one seen winning."""
MOTION_ICON = "mdi:motion-sensor"
OTHER_ICON = "mdi:cctv"
ALERT_ICON = "mdi:shield-alert"


def detection_icon(classes: Iterable[str]) -> str:
    """A person, vehicle or animal; else motion alone; else any other object."""
    seen = set(classes)
    for name, icon in DETECTION_ICONS.items():
        if name in seen:
            return icon
    return MOTION_ICON if seen <= {"motion"} else OTHER_ICON


@callback
def _camera(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, Any]:
    """The camera's name and entity: from the loaded hub, else from the event."""
    camera_id = str(data["camera_name"])
    name, entity_id = camera_id, data.get(ATTR_ENTITY_ID)
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        cameras = entry.runtime_data.cameras
        name = cameras.title(camera_id)
        entity_id = camera_refs(hass, cameras, camera_id).get(ATTR_ENTITY_ID, entity_id)
    line = {LOGBOOK_ENTRY_NAME: name}
    if entity_id:
        line[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
    return line


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
            **_camera(hass, event.data),
            LOGBOOK_ENTRY_MESSAGE: wording.text("logbook_detected", seen=seen),
            LOGBOOK_ENTRY_ICON: detection_icon(classes),
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
            **_camera(hass, data),
            LOGBOOK_ENTRY_MESSAGE: line,
            LOGBOOK_ENTRY_ICON: ALERT_ICON,
        }

    async_describe_event(DOMAIN, EVENT_DETECTION, _detection)
    async_describe_event(DOMAIN, EVENT_ALERT, _alert)
