"""Automations on HomeSec: device triggers, the blueprint and the logbook."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
import shutil
from typing import Any
from unittest.mock import AsyncMock, MagicMock

from homeassistant.components.device_automation import (
    DeviceAutomationType,
    async_get_device_automations,
)
from homeassistant.components.device_automation.exceptions import (
    InvalidDeviceAutomationConfig,
)
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.homesec import device_trigger, logbook
from custom_components.homesec.const import DOMAIN, EVENT_ALERT, EVENT_DETECTION

from .helpers import FolderHub, setup_folder_camera, wait_for

BLUEPRINT = (
    Path(__file__).parents[1]
    / "blueprints"
    / "automation"
    / "homesec"
    / "notify_on_alert.yaml"
)


def camera_device(hass: HomeAssistant, entry_id: str) -> dr.DeviceEntry:
    """The device of the hub's only camera."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry_id)
    return next(d for d in devices if d.model != "Hub")


async def test_device_triggers_fire_automations(
    hass: HomeAssistant, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """The automation editor offers the triggers; they fire on real clips."""
    # Given a folder camera that alerts on motion
    entry, drop = folder_hub.entry, folder_hub.folder
    device = camera_device(hass, entry.entry_id)
    hub = next(
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if d.model == "Hub"
    )

    # When the triggers of the camera and of the hub are listed
    listed = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, [device.id, hub.id]
    )

    # Then the camera has every type and the hub none
    def ours(device_id: str) -> list[str]:
        return sorted(t["type"] for t in listed[device_id] if t["domain"] == DOMAIN)

    assert ours(device.id) == sorted(device_trigger.TRIGGER_TYPES)
    assert ours(hub.id) == []
    extra = await device_trigger.async_get_trigger_capabilities(
        hass, {"type": "alert_raised"}
    )
    assert "risk_level" in extra["extra_fields"].schema

    # Given automations on motion, on any alert and on high-risk alerts
    calls = async_mock_service(hass, "test", "automation")

    def automation(name: str, trigger: dict[str, Any]) -> dict[str, Any]:
        return {
            "alias": name,
            "triggers": [
                {"trigger": "device", "domain": DOMAIN, "device_id": device.id}
                | trigger
            ],
            "actions": [
                {"action": "test.automation",
                 "data": {"name": name, "clip": "{{ trigger.event.data.clip_id }}"}}
            ],
        }  # fmt: skip

    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                automation("motion", {"type": "motion_detected"}),
                automation("person", {"type": "person_detected"}),
                automation("alert", {"type": "alert_raised"}),
                automation("high", {"type": "alert_raised", "risk_level": "high"}),
            ]
        },
    )

    # When a clip with motion arrives
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(calls) >= 2, what="two automations")
    await hass.async_block_till_done()

    # Then motion and any-alert fired for the clip; person and high-risk did not
    assert sorted(call.data["name"] for call in calls) == ["alert", "motion"]
    assert calls[0].data["clip"].startswith("front_door_")


async def test_blueprint_sends_a_custom_notification(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """An automation from the blueprint notifies with the alert's data."""
    # Given the blueprint installed and an automation using it for the camera
    entry, drop = folder_hub.entry, folder_hub.folder
    device = camera_device(hass, entry.entry_id)
    target = config_dir / "blueprints" / "automation" / "homesec"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)
    phone = async_mock_service(hass, "notify", "mobile_app_pixel")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": "Porch alerts",
                "use_blueprint": {
                    "path": f"homesec/{BLUEPRINT.name}",
                    "input": {
                        "camera": device.id,
                        "notify_action": "notify.mobile_app_pixel",
                    },
                },
            }
        },
    )

    # When a clip raises an alert
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: bool(phone), what="the blueprint's notification")

    # Then the phone got the camera's name, the reason and the clip as tag
    data = phone[0].data
    assert data["title"] == "Front door"
    assert data["message"] == "this camera alerts on every detection."
    assert data["data"]["tag"].startswith("front_door_")


async def test_logbook_describes_detections_and_alerts(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Logbook lines name the camera and say what happened."""
    # Given a hub with a camera, and HomeSec's logbook descriptions
    await setup_folder_camera(hass, config_dir, "Porch")
    described: dict[str, Callable[[Event], dict[str, Any]]] = {}
    logbook.async_describe_events(
        hass, lambda domain, event, describe: described.__setitem__(event, describe)
    )

    # When a detection and an alert are described
    detection = described[EVENT_DETECTION](
        Event(EVENT_DETECTION, {"camera_name": "porch", "detected_classes": ["person"]})
    )
    alert_data = {
        "camera_name": "porch",
        "summary": "A courier leaves a parcel.",
        "risk_level": "low",
        "notify_reason": "delivery",
    }
    alert = described[EVENT_ALERT](Event(EVENT_ALERT, alert_data))

    # Then they read as sentences about the camera, open its picture entity and
    # show what was seen (or the alert) as their icon
    assert detection == {
        "name": "Porch",
        "message": "detected person",
        "entity_id": "camera.porch",
        "icon": "mdi:account",
    }
    assert alert == {
        "name": "Porch",
        "message": "raised an alert (low risk): A courier leaves a parcel.",
        "entity_id": "camera.porch",
        "icon": "mdi:shield-alert",
    }

    # And a camera removed since is named by its id, without an entity
    gone = {"camera_name": "garage", "detected_classes": ["person"]}
    assert described[EVENT_DETECTION](Event(EVENT_DETECTION, gone)) == {
        "name": "garage",
        "message": "detected person",
        "icon": "mdi:account",
    }

    # And a line's icon is the most telling thing seen
    def icon(*classes: str) -> str:
        data = {"camera_name": "porch", "detected_classes": list(classes)}
        return str(described[EVENT_DETECTION](Event(EVENT_DETECTION, data))["icon"])

    icons = {
        classes: icon(*classes)
        for classes in (
            ("motion",), ("car", "vehicle"), ("animal",), ("vehicle", "person"),
            ("package",),
        )
    }  # fmt: skip
    assert icons == {
        ("motion",): "mdi:motion-sensor",
        ("car", "vehicle"): "mdi:car",
        ("animal",): "mdi:paw",
        ("vehicle", "person"): "mdi:account",
        ("package",): "mdi:cctv",
    }


async def test_device_triggers_reject_other_devices_and_filter_risk(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """Only camera devices have triggers; a risk minimum filters alerts."""
    # Given a hub with a camera
    entry = folder_hub.entry
    hub = next(
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if d.model == "Hub"
    )
    base = {"platform": "device", "domain": DOMAIN, "type": "person_detected"}

    # When a trigger names the hub device or an unknown device, then it is refused
    for device_id in (hub.id, "no-such-device"):
        with pytest.raises(InvalidDeviceAutomationConfig):
            await device_trigger.async_validate_trigger_config(
                hass, base | {"device_id": device_id}
            )
        with pytest.raises(InvalidDeviceAutomationConfig):
            await device_trigger.async_attach_trigger(
                hass, base | {"device_id": device_id}, AsyncMock(), MagicMock()
            )

    # And detection triggers have no extra fields
    assert await device_trigger.async_get_trigger_capabilities(hass, base) == {}

    # When alerts of several risks are matched against "high or above"
    high = {"type": "alert_raised", "risk_level": "high"}

    def matches(data: dict[str, Any]) -> bool:
        return device_trigger._matches(high, "front_door", data)

    # Then only this camera's high and critical alerts match
    assert matches({"camera_name": "front_door", "risk_level": "critical"})
    assert matches({"camera_name": "front_door", "risk_level": "high"})
    assert not matches({"camera_name": "front_door", "risk_level": "medium"})
    assert not matches({"camera_name": "front_door", "risk_level": None})
    assert not matches({"camera_name": "garage", "risk_level": "critical"})

    # And without a loaded hub, the logbook names the camera by its id and opens
    # the entity the event named when it fired
    await hass.config_entries.async_unload(entry.entry_id)
    described: dict[str, Callable[[Event], dict[str, Any]]] = {}
    logbook.async_describe_events(
        hass, lambda domain, event, describe: described.__setitem__(event, describe)
    )
    line = described[EVENT_DETECTION](
        Event(EVENT_DETECTION, {"camera_name": "porch", "detected_classes": []})
    )
    assert line == {
        "name": "porch",
        "message": "detected motion",
        "icon": "mdi:motion-sensor",
    }
    fired = {"camera_name": "porch", "entity_id": "camera.porch"}
    line = described[EVENT_ALERT](Event(EVENT_ALERT, fired))
    assert line["entity_id"] == "camera.porch"
