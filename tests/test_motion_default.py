"""A camera's "Alert on any motion": Default (as the hub), On or Off."""

from __future__ import annotations

from pathlib import Path

from homeassistant.config_entries import SOURCE_USER, ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.homesec.const import (
    DOMAIN,
    EVENT_ALERT,
    EVENT_DETECTION,
    SUBENTRY_CAMERA,
)
from custom_components.homesec.hub_fields import NEW_HUB

from .helpers import finish_hub_flow, start_hub_flow, wait_for


async def _motion_hub(hass: HomeAssistant, *, hub_on: bool) -> MockConfigEntry:
    """A motion-only hub whose "Alert on any detection" is ``hub_on``."""
    result = await start_hub_flow(hass)
    for step in ({"detector": "motion"}, {"analyzer": "none"}):
        result = dict(
            await hass.config_entries.flow.async_configure(result["flow_id"], step)
        )
    result = await finish_hub_flow(hass, result, {"notify_on_motion": hub_on})
    entry: MockConfigEntry = result["result"]
    return entry


async def _add_camera(
    hass: HomeAssistant, entry: MockConfigEntry, folder: Path, motion: str | None
) -> dict[str, object]:
    """Add a folder camera, choosing its "Alert on any motion" unless None."""
    flow = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    common = {"name": "Front door", "source_type": "folder"}
    if motion is not None:
        common["notify_on_motion"] = motion
    result = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], common
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"watch_folder": str(folder), "settle_seconds": 1}
    )
    await hass.async_block_till_done()
    return dict(next(iter(entry.subentries.values())).data)


@pytest.mark.parametrize(
    ("hub_on", "camera", "alerts"),
    [
        (True, None, 1),  # a new camera's default follows the hub
        (True, "default", 1),
        (True, "off", 0),
        (False, "on", 1),
        (False, "default", 0),
    ],
)
async def test_camera_motion_choice_follows_or_overrides_the_hub(
    hass: HomeAssistant,
    config_dir: Path,
    motion_clip: Path,
    hub_on: bool,
    camera: str | None,
    alerts: int,
) -> None:
    """Default alerts as the hub does; On and Off win over the hub."""
    # Given a motion-only hub and a folder camera with this choice
    entry = await _motion_hub(hass, hub_on=hub_on)
    drop = config_dir / "drop"
    drop.mkdir()
    stored = await _add_camera(hass, entry, drop, camera)
    raised = async_capture_events(hass, EVENT_ALERT)
    detected = async_capture_events(hass, EVENT_DETECTION)

    # When a clip with motion is dropped into its folder and processed
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(detected) == 1, what="the detection")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    await hass.async_block_till_done()

    # Then the camera's choice is stored as chosen, and it alerts as expected
    assert stored["notify_on_motion"] == (camera or "default")
    assert len(raised) == alerts


async def test_stored_on_off_cameras_are_migrated(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Cameras saved as on keep it; off (the old form's default) follows the hub."""
    # Given a hub saved before the choice existed, whose option is on, with a
    # camera saved on, one saved off and one saved without the setting
    folder = {"source_type": "folder", "settle_seconds": 1}
    cameras = {"porch": True, "garage": False, "shed": None}
    subentries = []
    for camera_id, motion in cameras.items():
        drop = config_dir / camera_id
        drop.mkdir()
        data = folder | {"camera_id": camera_id, "watch_folder": str(drop)}
        if motion is not None:
            data["notify_on_motion"] = motion
        subentries.append(
            ConfigSubentryDataWithId(
                subentry_id=camera_id,
                subentry_type=SUBENTRY_CAMERA,
                title=camera_id.title(),
                unique_id=camera_id,
                data=data,
            )
        )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        data=NEW_HUB | {"notify_on_motion": True},
        version=1,
        minor_version=1,
        subentries_data=subentries,
    )
    entry.add_to_hass(hass)

    # When Home Assistant loads it
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    # Then each camera holds a choice, and the one saved off follows the hub
    subentries = entry.subentries.items()
    stored = {sid: sub.data["notify_on_motion"] for sid, sub in subentries}
    assert stored == {"porch": "on", "garage": "default", "shed": "default"}
    assert entry.minor_version == 2
    policy = entry.runtime_data.engine.policy
    assert all(policy.settings_for(camera).notify_on_motion for camera in cameras)


async def test_entries_of_a_newer_version_are_not_loaded(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """An entry saved by a newer HomeSec is left alone, not guessed at."""
    # Given an entry of a newer major version
    entry = MockConfigEntry(domain=DOMAIN, title="HomeSec", data=NEW_HUB, version=2)
    entry.add_to_hass(hass)

    # When Home Assistant tries to load it
    await hass.config_entries.async_setup(entry.entry_id)

    # Then it fails to migrate and nothing is changed
    assert entry.state.value == "migration_error"
    assert entry.version == 2
