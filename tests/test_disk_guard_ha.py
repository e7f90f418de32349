"""The disk guard in Home Assistant: repair issues, recording stopped and resumed,
the hub's size sensors, and the options that set the limits."""

from __future__ import annotations

from pathlib import Path
import shutil

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.engine.disk_guard import DiskLevel
from custom_components.homesec.engine.store_retention import StoreRetentionSettings

from .helpers import FolderHub, set_options, wait_for

GB = 1024**3


def issue(hass: HomeAssistant, kind: str, entry_id: str) -> ir.IssueEntry | None:
    """HomeSec's repair issue ``kind`` of the hub, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{entry_id}")


async def test_low_then_full_disk_raises_issues_stops_and_resumes_recording(
    hass: HomeAssistant, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """Low space raises a warning; below the floor recording stops with an
    error issue; when space is back both clear and recording resumes, taking
    the clip the camera left meanwhile."""
    # Given a running hub with a folder camera, whose disk the test measures
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    free = {"bytes": 50 * GB}
    runtime.housekeeping.free_space = lambda _: free["bytes"]
    assert "front_door" in runtime.sources

    # When free space falls to 2 GB (below the 3 GB to keep)
    free["bytes"] = 2 * GB
    await runtime.async_guard_disks()
    await hass.async_block_till_done()

    # Then a warning issue says so, recording goes on, the status is degraded
    low = issue(hass, "disk_space_low", entry.entry_id)
    assert low is not None
    assert low.severity is ir.IssueSeverity.WARNING
    assert low.translation_placeholders == {"free": "2.0 GB", "floor": "1.5 GB"}
    assert "front_door" in runtime.sources
    status = hass.states.get("sensor.homesec_status")
    assert status is not None
    assert status.state == "degraded"
    assert status.attributes["disk_space"] is False
    sensor = hass.states.get("sensor.homesec_free_disk_space_for_clips")
    assert sensor is not None
    assert float(sensor.state) == 2 * GB / 1e9

    # When free space falls to 1 GB (below the 1.5 GB floor)
    free["bytes"] = 1 * GB
    await runtime.async_guard_disks()
    await hass.async_block_till_done()

    # Then recording stops, with an error issue instead of the warning
    stopped = issue(hass, "recording_stopped", entry.entry_id)
    assert stopped is not None
    assert stopped.severity is ir.IssueSeverity.ERROR
    assert issue(hass, "disk_space_low", entry.entry_id) is None
    assert runtime.recording_stopped
    assert runtime.sources == {}

    # When the camera leaves a clip meanwhile, and space comes back to 2 GB
    # (not yet halfway between floor and threshold), then to 2.5 GB
    await hass.async_add_executor_job(
        shutil.copyfile, motion_clip, folder_hub.folder / "clip.mp4"
    )
    free["bytes"] = 2 * GB
    await runtime.async_guard_disks()
    still = runtime.recording_stopped
    free["bytes"] = int(2.5 * GB)
    await runtime.async_guard_disks()
    await hass.async_block_till_done()

    # Then recording stayed off at 2 GB and resumed at 2.5 GB, the error issue
    # cleared, and the clip left meanwhile is processed
    assert still
    assert not runtime.recording_stopped
    assert issue(hass, "recording_stopped", entry.entry_id) is None
    assert "front_door" in runtime.sources
    await wait_for(
        lambda: (
            (s := hass.states.get("sensor.front_door_last_clip")) is not None
            and s.state not in ("unknown", "unavailable")
        ),
        what="the clip left while recording was stopped",
    )

    # When space is plentiful again
    free["bytes"] = 50 * GB
    await runtime.async_guard_disks()
    await hass.async_block_till_done()

    # Then no issue is left and the hub is healthy
    assert issue(hass, "disk_space_low", entry.entry_id) is None
    assert runtime.housekeeping.level is DiskLevel.OK
    status = hass.states.get("sensor.homesec_status")
    assert status is not None
    assert "disk_space" not in status.attributes


def _write_sparse(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.truncate(size)


async def test_size_sensors_show_spool_store_and_free_space(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path
) -> None:
    """After a retention pass the hub's sensors show the sizes, in GB."""
    # Given a spool holding 1.5 GB and a clip store holding 3 GB (sparse files),
    # on a disk with 40 GB free
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    runtime.housekeeping.free_space = lambda _: 40 * GB
    # (the camera's start-up resume has looked at the spool: it would take the
    # sparse file below for a clip left over, and copy 1.5 GB to the store)
    await hass.async_block_till_done(wait_background_tasks=True)
    await hass.async_add_executor_job(
        _write_sparse,
        config_dir / "homesec/spool/front_door/front_door_20261130_100000.mp4",
        int(1.5 * GB),
    )
    await hass.async_add_executor_job(
        _write_sparse,
        config_dir / "homesec/clips/front_door/front_door_20261130_090000.mp4",
        3 * GB,
    )
    runtime.housekeeping.store_limits = StoreRetentionSettings(
        max_bytes=None, max_age=None, alerted_max_age=None
    )

    # When the periodic retention pass runs
    await runtime.async_retention()
    await hass.async_block_till_done()

    # Then the sensors show the sizes in GB
    expected = {
        "sensor.homesec_spool_size": 1.5 * GB / 1e9,
        "sensor.homesec_clip_store_size": 3 * GB / 1e9,
        "sensor.homesec_free_disk_space_for_clips": 40 * GB / 1e9,
    }
    for entity_id, value in expected.items():
        state = hass.states.get(entity_id)
        assert state is not None, entity_id
        assert float(state.state) == value, entity_id
        assert state.attributes["unit_of_measurement"] == "GB"


async def test_options_set_store_limits_and_disk_space_with_checks(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """The options flow sets the clip store's limits and the free space to keep,
    and refuses alerted clips kept shorter or a floor above the threshold."""
    # Given a hub on defaults
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    assert runtime.housekeeping.store_limits is not None
    assert runtime.housekeeping.store_limits.max_bytes == 20 * GB

    # When options keep alerted clips shorter than the others, and a floor
    # above the free space to keep
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"],
        {"store_max_days": 60, "store_alert_days": 30, "disk_low_gb": 2,
         "disk_floor_gb": 4},
    )  # fmt: skip

    # Then the form says what is wrong for each
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        "store_alert_days": "alert_days_too_short",
        "disk_floor_gb": "floor_above_threshold",
    }

    # When valid limits are saved
    await set_options(
        hass, entry, store_max_gb=5, store_max_days=60, store_alert_days=365,
        disk_low_gb=4, disk_floor_gb=2,
    )  # fmt: skip

    # Then the reloaded hub uses them
    housekeeping = entry.runtime_data.runtime.housekeeping
    assert housekeeping.store_limits is not None
    assert housekeeping.store_limits.max_bytes == 5 * GB
    assert housekeeping.store_limits.max_age is not None
    assert housekeeping.store_limits.max_age.days == 60
    assert housekeeping.store_limits.alerted_max_age is not None
    assert housekeeping.store_limits.alerted_max_age.days == 365
    assert housekeeping.guard.low_bytes == 4 * GB
    assert housekeeping.guard.floor_bytes == 2 * GB
