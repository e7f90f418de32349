"""A camera's own detection rules and notify targets reach the running engine."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .helpers import FolderHub


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


async def test_a_camera_with_a_new_notify_target_reloads_the_hub(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """A target no notifier serves yet needs one: the hub reloads and has it."""
    # Given a running hub alerting through persistent notifications
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    assert "service:notify.new_phone" not in entry.runtime_data.engine.notify_keys

    # When the camera is given a notify service of its own
    await _change_camera(hass, entry, notify_services=["notify.new_phone"])

    # Then the hub was reloaded with a notifier for it
    assert entry.runtime_data.runtime is not runtime
    assert "service:notify.new_phone" in entry.runtime_data.engine.notify_keys
