"""Device triggers of a camera: an object detected, motion, an alert raised.

Besides person, vehicle and animal, "object detected" names any class the hub
detects (a custom model's classes too). Each can be limited to one of the
camera's zones ("person detected in zone driveway"): it fires only when a
detected object stood in that zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.const import CONF_DEVICE_ID, CONF_DOMAIN, CONF_PLATFORM, CONF_TYPE
from homeassistant.core import CALLBACK_TYPE, Event, HassJob, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import probatio

from .const import (
    CONF_CAMERA_ID,
    CONF_ZONES,
    DOMAIN,
    EVENT_ALERT,
    EVENT_DETECTION,
    RISK_LEVELS,
    SUBENTRY_CAMERA,
)
from .engine.detect.zones import PolygonError, parse_zones
from .settings import HubSettings

CONF_OBJECT = "object"
CONF_RISK_LEVEL = "risk_level"
CONF_ZONE = "zone"
ANY_RISK = "any"
MINIMUM_RISKS = [ANY_RISK, *RISK_LEVELS]
DETECTED = {
    "person_detected": "person",
    "vehicle_detected": "vehicle",
    "animal_detected": "animal",
    "motion_detected": "motion",
}
OBJECT = "object_detected"
ALERT = "alert_raised"
TRIGGER_TYPES = [*DETECTED, OBJECT, ALERT]

TRIGGER_SCHEMA = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {
        probatio.Required(CONF_TYPE): probatio.In(TRIGGER_TYPES),
        probatio.Optional(CONF_RISK_LEVEL): probatio.In(MINIMUM_RISKS),
        probatio.Optional(CONF_OBJECT): str,
        probatio.Optional(CONF_ZONE): str,
    }
)


def _objects(hass: HomeAssistant) -> list[str]:
    """The objects the hub detects (its model's classes, as chosen)."""
    entries = hass.config_entries.async_entries(DOMAIN)
    if not entries:
        return []
    return list(HubSettings.from_entry(entries[0]).detect_classes)


def _camera_id(hass: HomeAssistant, device_id: str) -> str | None:
    """The camera id of a HomeSec camera device, or None."""
    camera = _camera(hass, device_id)
    return str(camera[CONF_CAMERA_ID]) if camera is not None else None


def _zone_names(hass: HomeAssistant, device_id: str) -> list[str]:
    """The names of a camera device's zones."""
    camera = _camera(hass, device_id)
    try:
        zones = parse_zones(str((camera or {}).get(CONF_ZONES) or ""))
    except PolygonError:
        return []
    return [zone.name for zone in zones]


def _camera(hass: HomeAssistant, device_id: str) -> Mapping[str, Any] | None:
    """The subentry data of a HomeSec camera device, or None."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            continue
        for subentry in entry.subentries.values():
            if subentry.subentry_type == SUBENTRY_CAMERA and (
                (DOMAIN, subentry.subentry_id) in device.identifiers
            ):
                return subentry.data
    return None


async def async_validate_trigger_config(
    hass: HomeAssistant, config: ConfigType
) -> ConfigType:
    """Check the trigger, that its device is a HomeSec camera, and its zone."""
    config = TRIGGER_SCHEMA(config)
    if config[CONF_TYPE] == OBJECT and not config.get(CONF_OBJECT):
        raise InvalidDeviceAutomationConfig("an object_detected trigger needs object")
    device_id = config[CONF_DEVICE_ID]
    if _camera_id(hass, device_id) is None:
        raise InvalidDeviceAutomationConfig(f"{device_id} is not a HomeSec camera")
    zone = config.get(CONF_ZONE)
    if zone and zone not in _zone_names(hass, device_id):
        raise InvalidDeviceAutomationConfig(f"{device_id} has no zone named {zone!r}")
    return config


async def async_get_triggers(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, Any]]:
    """Every camera offers all trigger types (the hub device none)."""
    if _camera_id(hass, device_id) is None:
        return []
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: trigger_type,
        }
        for trigger_type in TRIGGER_TYPES
    ]


async def async_get_trigger_capabilities(
    hass: HomeAssistant, config: ConfigType
) -> dict[str, probatio.Schema]:
    """Extra fields: a minimum risk level, an object, a zone.

    An alert trigger can require a minimum risk level, an object trigger names
    an object the hub detects, and any trigger can require one of the camera's
    zones.
    """
    fields: dict[Any, Any] = {}
    if config[CONF_TYPE] == OBJECT:
        fields[probatio.Required(CONF_OBJECT)] = probatio.In(_objects(hass))
    if config[CONF_TYPE] == ALERT:
        fields[probatio.Optional(CONF_RISK_LEVEL)] = probatio.In(MINIMUM_RISKS)
    if zones := _zone_names(hass, config.get(CONF_DEVICE_ID) or ""):
        fields[probatio.Optional(CONF_ZONE)] = probatio.In(zones)
    return {"extra_fields": probatio.Schema(fields)} if fields else {}


def _matches(config: ConfigType, camera_id: str, data: Mapping[str, Any]) -> bool:
    if data.get("camera_name") != camera_id:
        return False
    zone = config.get(CONF_ZONE)
    if config[CONF_TYPE] in DETECTED:
        label = DETECTED[config[CONF_TYPE]]
        if zone:  # that kind of object stood in the zone
            return zone in data.get("class_zones", {}).get(label, [])
        return label in data.get("detected_classes", [])
    if config[CONF_TYPE] == OBJECT:
        label = str(config.get(CONF_OBJECT))
        if zone:
            return zone in data.get("class_zones", {}).get(label, [])
        return label in data.get("detected_classes", [])
    if zone and zone not in data.get("zones", []):
        return False
    minimum = config.get(CONF_RISK_LEVEL, ANY_RISK)
    if minimum == ANY_RISK:
        return True
    risk = data.get("risk_level")
    return risk in RISK_LEVELS and RISK_LEVELS.index(risk) >= RISK_LEVELS.index(minimum)


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen to the camera's homesec_detection or homesec_alert events."""
    camera_id = _camera_id(hass, config[CONF_DEVICE_ID])
    if camera_id is None:
        raise InvalidDeviceAutomationConfig(
            f"{config[CONF_DEVICE_ID]} is not a HomeSec camera"
        )
    event_type = EVENT_ALERT if config[CONF_TYPE] == ALERT else EVENT_DETECTION
    job = HassJob(action, f"homesec device trigger {trigger_info}")
    trigger_data = trigger_info["trigger_data"]

    @callback
    def _matching(event_data: Mapping[str, Any]) -> bool:
        return _matches(config, camera_id, event_data)

    @callback
    def _handle(event: Event) -> None:
        hass.async_run_hass_job(
            job,
            {
                "trigger": {
                    **trigger_data,
                    **config,
                    "event": event,
                    "description": f"HomeSec {config[CONF_TYPE].replace('_', ' ')}",
                }
            },
            event.context,
        )

    return hass.bus.async_listen(event_type, _handle, event_filter=_matching)
