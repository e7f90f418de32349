"""Logbook lines of real clips, read through Home Assistant's logbook API."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.homesec.const import DOMAIN, EVENT_ALERT, EVENT_DETECTION

from .helpers import FolderHub, wait_for


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_db_url: str, enable_custom_integrations: None
) -> Generator[None]:
    """Prepare the recorder's database before ``hass`` (the harness insists)."""
    return


async def logbook_lines(
    hass_ws_client: WebSocketGenerator, since: str, **targets: list[str]
) -> list[dict[str, Any]]:
    """HomeSec's lines of the logbook since ``since``, optionally for targets."""
    client = await hass_ws_client()
    await client.send_json_auto_id(
        {"type": "logbook/get_events", "start_time": since, **targets}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    return [line for line in reply["result"] if line.get("domain") == DOMAIN]


async def test_logbook_lines_link_the_camera_with_an_icon(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    folder_hub: FolderHub,
    motion_clip: Path,
) -> None:
    """A clip's detection and alert lines open the camera, on every logbook."""
    # Given the logbook and a folder camera "Front door" that alerts on motion
    assert await async_setup_component(hass, "logbook", {})
    since = dt_util.utcnow().isoformat()
    entry, drop = folder_hub.entry, folder_hub.folder
    device = next(
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if d.model != "Hub"
    )
    (picture,) = (
        e.entity_id
        for e in er.async_entries_for_device(er.async_get(hass), device.id)
        if e.domain == "camera"
    )
    assert picture == "camera.front_door"
    alerts = async_capture_events(hass, EVENT_ALERT)
    detections = async_capture_events(hass, EVENT_DETECTION)

    # When a clip with motion arrives and is recorded
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: bool(alerts), what="the alert")
    await async_wait_recording_done(hass)

    # Then both events name the camera's device and picture entity
    for event in (detections[0], alerts[0]):
        assert event.data["device_id"] == device.id
        assert event.data["entity_id"] == picture

    # And the logbook reads them as sentences about the camera, with icons
    lines = await logbook_lines(hass_ws_client, since)
    assert [
        {key: line[key] for key in ("name", "message", "entity_id", "icon")}
        for line in lines
    ] == [
        {
            "name": "Front door",
            "message": "detected motion",
            "entity_id": "camera.front_door",
            "icon": "mdi:motion-sensor",
        },
        {
            "name": "Front door",
            "message": "raised an alert: this camera alerts on every detection.",
            "entity_id": "camera.front_door",
            "icon": "mdi:shield-alert",
        },
    ]

    # And the camera's device page and its picture entity show the same lines
    assert await logbook_lines(hass_ws_client, since, device_ids=[device.id]) == lines
    assert await logbook_lines(hass_ws_client, since, entity_ids=[picture]) == lines
