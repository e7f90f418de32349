"""A camera's own detection rules and notify targets reach the running engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_mock_service,
)

from custom_components.homesec.const import EVENT_ALERT

from .helpers import FolderHub, add_camera, wait_for


async def _change_camera(hass: HomeAssistant, entry: ConfigEntry, **data: Any) -> None:
    """Save new settings for the hub's only camera, as its reconfigure does."""
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, **data}
    )
    await hass.async_block_till_done()


async def test_a_cameras_own_rules_apply_without_a_reload(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """A camera given its own confidence scans with it; the hub keeps running."""
    # Given a running hub with one camera on the hub's rules
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    pipeline = entry.runtime_data.engine.pipeline
    before = pipeline.rules_for("front_door")
    assert before is not None

    # When the camera is given its own minimum confidence
    await _change_camera(hass, entry, min_confidence=0.93)

    # Then the same hub scans the camera's clips with it
    assert entry.runtime_data.runtime is runtime
    after = pipeline.rules_for("front_door")
    assert after is not None
    assert (before.min_confidence, after.min_confidence) == (0.5, 0.93)


async def test_a_camera_with_a_new_notify_target_gets_it_without_a_reload(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path, motion_clip: Path
) -> None:
    """A target no notifier serves yet gets one in place: the other camera and the
    hub's entities stay available."""
    # Given a running hub alerting through persistent notifications, with a
    # second camera "Garage", and the entities of the hub and the first camera
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    assert "service:notify.new_phone" not in entry.runtime_data.engine.notify_keys
    phone = async_mock_service(hass, "notify", "new_phone")
    others = {
        item.entity_id
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
    }
    garage = config_dir / "garage"
    garage.mkdir()
    await add_camera(hass, entry, garage, name="Garage")
    seen: list[str | None] = []

    @callback
    def _changed(event: Event[Any]) -> None:
        if event.data["entity_id"] in others:
            new = event.data["new_state"]
            seen.append(None if new is None else new.state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, _changed)

    # When the garage is given a notify service of its own, and a clip comes
    subentry = next(s for s in entry.subentries.values() if s.title == "Garage")
    hass.config_entries.async_update_subentry(
        entry,
        subentry,
        data={**subentry.data, "notify_services": ["notify.new_phone"]},
    )
    await hass.async_block_till_done()
    alerts = async_capture_events(hass, EVENT_ALERT)
    (garage / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: bool(alerts), what="the alert")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )

    # Then the same hub sent the garage's alert to the new service, and no
    # entity of the hub or the other camera went unavailable or away
    assert entry.runtime_data.runtime is runtime
    assert "service:notify.new_phone" in entry.runtime_data.engine.notify_keys
    assert len(phone) == 1
    assert phone[0].data["title"].startswith("Garage")
    assert STATE_UNAVAILABLE not in seen
    assert None not in seen
