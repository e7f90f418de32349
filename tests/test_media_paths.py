"""New hubs keep clips under /media when it exists; existing hubs keep their paths."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec.const import DOMAIN

from .helpers import add_camera, setup_hub, wait_for


async def test_new_hub_keeps_clips_in_the_media_folder(
    hass: HomeAssistant, config_dir: Path, no_media_folder: Path, motion_clip: Path
) -> None:
    """With a media folder, the spool and the local store live under it."""
    # Given a machine with a media folder (as Home Assistant OS has /media)
    no_media_folder.mkdir()

    # When a hub is created with the defaults and a camera drops a clip
    entry = await setup_hub(hass)
    watched = config_dir / "cams" / "front"
    watched.mkdir(parents=True)
    await add_camera(hass, entry, watched)
    (watched / "clip.mp4").write_bytes(motion_clip.read_bytes())

    # Then both folders are under the media folder and the clip is stored there
    root = no_media_folder / "homesec"
    assert entry.data["spool_path"] == str(root / "spool")
    assert entry.data["storage_path"] == str(root / "clips")
    assert entry.runtime_data.engine.spool.root == root / "spool"
    await wait_for(lambda: any((root / "clips").rglob("*.mp4")), what="stored clip")
    assert not (config_dir / "homesec" / "clips").exists()


async def test_without_a_media_folder_clips_stay_in_the_config_dir(
    hass: HomeAssistant, config_dir: Path, no_media_folder: Path
) -> None:
    """Without /media the paths are under the configuration directory."""
    # Given no media folder
    assert not no_media_folder.exists()

    # When a hub is created with the defaults
    entry = await setup_hub(hass)

    # Then its spool and store are HomeSec's folders in the config dir
    assert entry.data["spool_path"] == "homesec/spool"
    assert entry.data["storage_path"] == "homesec/clips"
    assert entry.runtime_data.engine.spool.root == config_dir / "homesec" / "spool"


async def test_existing_hub_keeps_its_paths(
    hass: HomeAssistant, config_dir: Path, no_media_folder: Path
) -> None:
    """A hub made before the media folder default keeps the config dir paths."""
    # Given a media folder, and a hub stored without a spool path (older version)
    no_media_folder.mkdir()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        data={"storage_type": "local", "storage_path": "homesec/clips",
              "state_store": "sqlite", "detector": "motion", "analyzer": "none"},
    )  # fmt: skip
    entry.add_to_hass(hass)

    # When it is set up
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    # Then the spool stays in the configuration directory
    assert entry.runtime_data.engine.spool.root == config_dir / "homesec" / "spool"
    assert not (no_media_folder / "homesec").exists()
