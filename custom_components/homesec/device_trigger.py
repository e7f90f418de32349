"""Device triggers of a camera: an object detected, motion, an alert raised.

Besides person, vehicle and animal, "object detected" names any class the hub
detects (a custom model's classes too).
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
    DOMAIN,
    EVENT_ALERT,
    EVENT_DETECTION,
    RISK_LEVELS,
    SUBENTRY_CAMERA,
)
from .settings import HubSettings

CONF_OBJECT = "object"
CONF_RISK_LEVEL = "risk_level"
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
                return str(subentry.data[CONF_CAMERA_ID])
    return None


async def async_validate_trigger_config(
    hass: HomeAssistant, config: ConfigType
) -> ConfigType:
    """Check the trigger and that its device is a HomeSec camera."""
    config = TRIGGER_SCHEMA(config)
    if config[CONF_TYPE] == OBJECT and not config.get(CONF_OBJECT):
        raise InvalidDeviceAutomationConfig("an object_detected trigger needs object")
    if _camera_id(hass, config[CONF_DEVICE_ID]) is None:
        raise InvalidDeviceAutomationConfig(
            f"{config[CONF_DEVICE_ID]} is not a HomeSec camera"
        )
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
    """Extra fields: an alert's minimum risk level, an object trigger's object.

    The objects offered are those the hub detects.
    """
    if config[CONF_TYPE] == OBJECT:
        return {
            "extra_fields": probatio.Schema(
                {probatio.Required(CONF_OBJECT): probatio.In(_objects(hass))}
            )
        }
    if config[CONF_TYPE] != ALERT:
        return {}
    return {
        "extra_fields": probatio.Schema(
            {probatio.Optional(CONF_RISK_LEVEL): probatio.In(MINIMUM_RISKS)}
        )
    }


def _matches(config: ConfigType, camera_id: str, data: Mapping[str, Any]) -> bool:
    if data.get("camera_name") != camera_id:
        return False
    if config[CONF_TYPE] in DETECTED:
        return DETECTED[config[CONF_TYPE]] in data.get("detected_classes", [])
    if config[CONF_TYPE] == OBJECT:
        return config.get(CONF_OBJECT) in data.get("detected_classes", [])
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
