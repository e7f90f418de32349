"""HomeSec's own folders are never taken for stored clips or a watched folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.homesec.const import DOMAIN, SUBENTRY_CAMERA
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.storage.local import LocalStorage

from .helpers import FolderHub
from .pipeline_parts import run_blocking


async def _watch(hass: HomeAssistant, entry: ConfigEntry, folder: Path) -> Any:
    """Add a folder camera "Yard" watching ``folder``; the folder step's result."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Yard", "source_type": "folder"}
    )
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"watch_folder": str(folder), "settle_seconds": 1}
    )


async def test_storage_folder_may_not_overlap_homesec_folders(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """The spool, a folder around it, or the snapshots cannot store clips."""
    # Given the hub flow at its local storage step
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "local"

    # When the spool, the folder holding it and the snapshots are offered
    errors = []
    for folder in ("homesec/spool", "homesec", str(config_dir / "homesec/snapshots")):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"storage_path": folder}
        )
        errors.append(result.get("errors"))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"storage_path": "homesec/clips"}
    )

    # Then each is refused on the field, and the default folder is taken
    assert errors == [{"storage_path": "folder_overlaps_homesec"}] * 3
    assert result["step_id"] == "detector"


async def test_watched_folder_may_not_overlap_homesec_or_another_camera(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub
) -> None:
    """A camera may not watch the spool, the clip store, or another camera's folder."""
    # Given a hub with a folder camera watching "drop", and the folders around
    spool = config_dir / "homesec" / "spool"
    store = config_dir / "homesec" / "clips"
    for folder in (spool, store, folder_hub.folder / "inner"):
        folder.mkdir(parents=True, exist_ok=True)
    entry = folder_hub.entry

    # When a second camera is offered HomeSec's folders, the first camera's
    # folder, a folder inside it and the folder around it
    results = {
        name: (await _watch(hass, entry, folder)).get("errors")
        for name, folder in {
            "spool": spool,
            "store": store,
            "config": config_dir,
            "same": folder_hub.folder,
            "inside": folder_hub.folder / "inner",
        }.items()
    }
    own = config_dir / "yard"
    own.mkdir()
    done = await _watch(hass, entry, own)
    await hass.async_block_till_done()

    # Then each is refused with the reason, and a folder of its own is taken
    homesec = {"watch_folder": "folder_overlaps_homesec"}
    camera = {"watch_folder": "folder_overlaps_camera"}
    assert results == {
        "spool": homesec,
        "store": homesec,
        "config": homesec,
        "same": camera,
        "inside": camera,
    }
    assert done["type"] is FlowResultType.CREATE_ENTRY


async def test_storage_refuses_to_store_a_clip_onto_itself(tmp_path: Path) -> None:
    """Storing a clip whose stored copy is the clip itself fails loudly."""
    # Given local storage whose camera folder is where the clip already is
    root = tmp_path / "store"
    (root / "porch").mkdir(parents=True)
    clip_path = root / "porch" / "porch_20261201_101500.mp4"
    clip_path.write_bytes(b"video")
    storage = LocalStorage(root, run_blocking)
    clip = Clip(
        clip_id=clip_path.stem,
        camera_name="porch",
        local_path=clip_path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )

    # When it is stored, then it fails instead of reporting a stored copy
    with pytest.raises(OSError, match="storage and spool overlap"):
        await storage.put(clip)
    assert clip_path.read_bytes() == b"video"
