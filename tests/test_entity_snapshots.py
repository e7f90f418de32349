"""Snapshots of every platform's entities: registry entries and states."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import camera
from homeassistant.components.camera.const import DATA_COMPONENT
from homeassistant.config_entries import ConfigSubentryDataWithId
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.homesec import PLATFORMS
from custom_components.homesec.const import DOMAIN, SUBENTRY_CAMERA
from custom_components.homesec.hub_fields import NEW_HUB

from .helpers import FolderHub

# Fixed ids: entity unique ids are built from the entry and subentry ids, which
# the flows would draw at random.
ENTRY_ID = "hub_entry_id"
FRONT_DOOR_ID = "front_door_subentry_id"
PORCH_ID = "porch_subentry_id"
CAMERA_DEFAULTS: dict[str, Any] = {"enabled": True, "min_risk_override": "default",
                   "prompt_context": ""}  # fmt: skip
"""What the camera subentry flow stores for every camera with default answers."""


class _PorchCamera(camera.Camera):
    """A Home Assistant camera without a stream, for a camera of kind ha_camera."""

    _attr_name = "Porch cam"
    _attr_unique_id = "porch_cam"

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        return None


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities that are disabled by default, to snapshot them too."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


@pytest.fixture(autouse=True)
def fixed_free_space() -> Generator[None]:
    """The free disk space sensor shows 50 GiB, whatever this machine has."""
    with patch(
        "custom_components.homesec.engine.disk_guard.disk_free",
        return_value=50 * 1024**3,
    ):
        yield


def _front_door(folder: Path) -> dict[str, Any]:
    """The folder camera's subentry data, as the flow stores it."""
    return CAMERA_DEFAULTS | {
        "camera_id": "front_door",
        "source_type": "folder",
        "notify_on_motion": "on",
        "watch_folder": str(folder),
        "settle_seconds": 1.0,
    }


def _hub_with_two_cameras(folder: Path) -> MockConfigEntry:
    """The hub on embedded defaults with a folder camera and a HA camera."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        entry_id=ENTRY_ID,
        data=NEW_HUB,
        subentries_data=[
            ConfigSubentryDataWithId(
                subentry_id=FRONT_DOOR_ID,
                subentry_type=SUBENTRY_CAMERA,
                title="Front door",
                unique_id="front_door",
                data=_front_door(folder),
            ),
            ConfigSubentryDataWithId(
                subentry_id=PORCH_ID,
                subentry_type=SUBENTRY_CAMERA,
                title="Porch",
                unique_id="porch",
                data=CAMERA_DEFAULTS
                | {
                    "camera_id": "porch",
                    "source_type": "ha_camera",
                    "notify_on_motion": "off",
                    "camera_entity": "camera.porch_cam",
                    "clip_seconds": 10.0,
                    "stop_delay_s": 5.0,
                    "max_recording_s": 60.0,
                },
            ),
        ],
    )


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform", PLATFORMS)
async def test_platform_entities(
    hass: HomeAssistant,
    config_dir: Path,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Each platform's entities of the hub and its two cameras match the snapshot."""
    # Given a fixed day, so "Clips today" has the same last reset in every run
    freezer.move_to("2026-11-30T20:00:00+00:00")
    # Given a Home Assistant camera, and a hub with a folder camera and one
    # recording that Home Assistant camera
    assert await async_setup_component(hass, "camera", {})
    await hass.data[DATA_COMPONENT].async_add_entities([_PorchCamera()])
    folder = config_dir / "drop"
    folder.mkdir()
    entry = _hub_with_two_cameras(folder)
    entry.add_to_hass(hass)

    # When the hub is set up with only the platform under test (and fixed
    # camera/image access tokens)
    with (
        patch("custom_components.homesec.PLATFORMS", [platform]),
        patch("random.SystemRandom.getrandbits", return_value=123123123123),
    ):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

        # Then its entities' registry entries and states are as in the snapshot
        await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_the_snapshot_hub_is_what_the_flows_make(folder_hub: FolderHub) -> None:
    """The hand-built entry above holds what the real flows store."""
    # Given a hub with one folder camera made through the flows
    entry = folder_hub.entry

    # When its stored data is read
    cameras = [dict(subentry.data) for subentry in entry.subentries.values()]

    # Then the snapshot's entry holds the same camera and the flows' hub defaults
    assert cameras == [_front_door(folder_hub.folder)]
    assert NEW_HUB.items() <= entry.data.items()
