"""The folder camera's step suggests a folder of its own and creates it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.homesec.const import SUBENTRY_CAMERA

from .helpers import setup_hub


async def folder_step(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    """A new camera "Gate" at its folder step."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Gate", "source_type": "folder"}
    )
    assert result["step_id"] == "folder"
    return dict(result)


def suggested(result: dict[str, Any]) -> dict[str, Any]:
    """The values a form fills in for the user."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


async def submit(
    hass: HomeAssistant, result: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    """Submit the folder step (settle time 1 s)."""
    done = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"settle_seconds": 1} | data
    )
    await hass.async_block_till_done()
    return dict(done)


async def test_the_suggested_folder_is_created(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A new folder camera is offered a folder of its own, created on saving."""
    # Given a hub on a machine without a media folder
    entry = await setup_hub(hass)

    # When a folder camera is added and its step submitted as suggested
    result = await folder_step(hass, entry)
    offered = suggested(result)
    done = await submit(hass, result, offered)

    # Then the folder offered is under the configuration directory, it was
    # created, and the camera watches it (the choice to create is not stored)
    folder = config_dir / "homesec" / "incoming" / "gate"
    assert offered == {"watch_folder": str(folder), "create_folder": True}
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert folder.is_dir()
    gate = next(iter(entry.subentries.values()))
    assert gate.data["watch_folder"] == str(folder)
    assert "create_folder" not in gate.data
    assert "gate" in entry.runtime_data.runtime.sources


async def test_the_media_folder_is_suggested_when_allowed(
    hass: HomeAssistant, config_dir: Path, no_media_folder: Path
) -> None:
    """With a media folder Home Assistant may read, the folder goes under it."""
    # Given a hub, and a media folder Home Assistant does not allow yet
    entry = await setup_hub(hass)
    no_media_folder.mkdir()

    # When a folder camera is added
    # Then the folder offered stays under the configuration directory
    outside = suggested(await folder_step(hass, entry))["watch_folder"]
    assert outside == str(config_dir / "homesec" / "incoming" / "gate")

    # When Home Assistant allows the media folder (as it does its media_dirs)
    hass.config.allowlist_external_dirs.add(str(no_media_folder))
    result = await folder_step(hass, entry)

    # Then the folder offered is under it, and is created there
    folder = no_media_folder / "homesec" / "incoming" / "gate"
    assert suggested(result)["watch_folder"] == str(folder)
    done = await submit(hass, result, suggested(result))
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert folder.is_dir()


async def test_missing_folders_are_created_only_when_asked_and_possible(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Unticked, a missing folder is an error; one that cannot be made, too."""
    # Given a hub, a file where a folder should go, and a folder outside
    entry = await setup_hub(hass)
    blocker = config_dir / "cams"
    blocker.write_text("not a folder")
    outside = config_dir.parent / "outside" / "gate"
    result = await folder_step(hass, entry)
    missing = config_dir / "gate"

    # When a missing folder is given without asking to create it
    unticked = await submit(hass, result, {"watch_folder": str(missing)})

    # Then the form says it does not exist, and nothing was created
    assert unticked["errors"] == {"watch_folder": "folder_not_found"}
    assert not missing.exists()

    # When the folder cannot be created (a file is in the way)
    blocked = await submit(
        hass,
        result,
        {"watch_folder": str(blocker / "gate"), "create_folder": True},
    )

    # Then the form says so
    assert blocked["errors"] == {"watch_folder": "folder_not_creatable"}

    # When the folder is one Home Assistant may not read
    refused = await submit(
        hass, result, {"watch_folder": str(outside), "create_folder": True}
    )

    # Then it is refused before anything is created
    assert refused["errors"] == {"watch_folder": "folder_not_allowed"}
    assert not outside.parent.exists()

    # When a creatable folder is given with the box ticked
    done = await submit(
        hass, result, {"watch_folder": str(missing), "create_folder": True}
    )

    # Then it is created and the camera saved
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert missing.is_dir()
