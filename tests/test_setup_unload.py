"""Setup, unload and reload leave nothing behind."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import threading

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.homesec.const import EVENT_ALERT

from .helpers import (
    FolderHub,
    add_camera,
    finish_hub_flow,
    setup_hub,
    start_hub_flow,
    wait_for,
)


def _open_files_under(folder: Path) -> list[str]:
    """Paths under ``folder`` this process holds open (from /proc/self/fd)."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


def _new_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads started since ``before`` was taken, but for HA's executors."""
    return [
        thread
        for thread in set(threading.enumerate()) - before
        if not thread.name.startswith(("SyncWorker", "ImportExecutor"))
    ]


async def _process_one_clip(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path
) -> None:
    entry = await setup_hub(hass)
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, settle_seconds=1)
    alerts = async_capture_events(hass, EVENT_ALERT)
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(alerts) == 1, what="an alert")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )


async def test_unload_releases_tasks_threads_and_files(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path
) -> None:
    """After a clip went through, unloading leaves no task, thread or open file."""
    # Given a loaded hub that processed a clip (SQLite open, folder watched)
    threads_before = set(threading.enumerate())
    await _process_one_clip(hass, config_dir, motion_clip)
    entry = hass.config_entries.async_entries("homesec")[0]
    hub = entry.runtime_data
    assert _open_files_under(config_dir)

    # When the entry is unloaded
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    # Then the entry is unloaded, its sources and clips stopped, files closed
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert hub.runtime.sources == {}
    assert hub.engine.pipeline.in_flight == 0
    assert _open_files_under(config_dir) == []
    # Then every thread the hub started ends: each is joined without a time
    # budget (one that never ends fails the test at the suite's 120 s timeout)
    for thread in _new_threads(threads_before):
        await hass.async_add_executor_job(thread.join)
    assert _new_threads(threads_before) == []
    # (the harness fails the test on lingering tasks and timers as well)


async def test_reload_restarts_the_camera(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path
) -> None:
    """A reloaded hub keeps processing clips from the same folder."""
    # Given a hub that processed a clip
    await _process_one_clip(hass, config_dir, motion_clip)
    entry = hass.config_entries.async_entries("homesec")[0]

    # When the entry is reloaded and another clip arrives
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    alerts = async_capture_events(hass, EVENT_ALERT)
    (config_dir / "drop" / "second.mp4").write_bytes(motion_clip.read_bytes())

    # Then the new runtime processes it
    assert entry.state is ConfigEntryState.LOADED
    await wait_for(lambda: len(alerts) == 1, what="an alert after reload")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )


async def test_home_assistant_stop_stops_the_engine(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path
) -> None:
    """Stopping Home Assistant stops sources and closes the state store."""
    # Given a running hub
    await _process_one_clip(hass, config_dir, motion_clip)
    hub = hass.config_entries.async_entries("homesec")[0].runtime_data

    # When Home Assistant stops
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()

    # Then the engine released its sources and files
    assert hub.runtime.sources == {}
    assert _open_files_under(config_dir) == []


async def test_unwritable_spool_fails_setup_with_a_clear_error(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """When the spool folder cannot be created, setup fails and says why."""
    # Given a file where HomeSec's folder should be
    (config_dir / "homesec").write_text("in the way")

    # When the hub is set up
    result = await start_hub_flow(
        hass, {"storage_path": str(config_dir.parent / "stored")}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"detector": "motion"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"analyzer": "none"}
    )
    await finish_hub_flow(hass, result)

    # Then the entry is in setup error with the translated reason
    entry = hass.config_entries.async_entries("homesec")[0]
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert entry.reason is not None
    assert "cannot create its clip spool" in entry.reason
    assert entry.reason.endswith(
        "spool: a file is where a folder should be. Check the disk and the "
        "permissions of the configuration directory"
    )  # not "[Errno 20] Not a directory"


async def test_entities_unavailable_while_the_source_fails(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """A camera whose folder disappears turns unavailable, and back again."""
    # Given a camera watching a folder
    entry, drop = folder_hub.entry, folder_hub.folder
    hub = entry.runtime_data
    assert hass.states.get("binary_sensor.front_door_person").state == "off"

    # When the folder is removed and the next health check runs
    drop.rmdir()
    await wait_for(
        lambda: not hub.runtime.sources["front_door"].healthy, what="failure"
    )
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done()

    # Then the camera's entities are unavailable and the hub is unhealthy
    assert hass.states.get("binary_sensor.front_door_person").state == "unavailable"
    assert hass.states.get("sensor.front_door_clips_today").state == "unavailable"
    assert hub.health.health().status.value == "unhealthy"

    # When the folder is back, then so are the entities
    drop.mkdir()
    await wait_for(lambda: hub.runtime.sources["front_door"].healthy, what="recovery")
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=22))
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.front_door_person").state == "off"


async def test_long_failures_raise_repair_issues(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """A source failing for 5 min raises a repair issue, cleared when it is back."""
    # Given a camera whose folder is gone
    entry, drop = folder_hub.entry, folder_hub.folder
    hub = entry.runtime_data
    source = hub.runtime.sources["front_door"]
    drop.rmdir()
    await source.poll_once(hub.engine.pipeline.submit)
    assert not source.healthy
    registry = ir.async_get(hass)
    issue_id = "source_failing_front_door"

    # When the health checks see it failing for a minute, then for six
    start = dt_util.utcnow()
    hub.health.check(start)
    hub.health.check(start + timedelta(seconds=60))
    early = registry.async_get_issue("homesec", issue_id)
    hub.health.check(start + timedelta(seconds=360))

    # Then only the second check raised the issue, naming the camera and, in
    # words, the problem (no errno, no exception class)
    assert early is None
    issue = registry.async_get_issue("homesec", issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["camera"] == "Front door"
    assert issue.translation_placeholders["problem"] == "file or folder not found"

    # When the folder is back, then the issue is gone
    drop.mkdir()
    await source.poll_once(hub.engine.pipeline.submit)
    hub.health.check(start + timedelta(seconds=370))
    assert registry.async_get_issue("homesec", issue_id) is None

    # When it fails long enough again and the hub is removed, then no issue stays
    drop.rmdir()
    await source.poll_once(hub.engine.pipeline.submit)
    hub.health.check(start + timedelta(seconds=380))
    hub.health.check(start + timedelta(seconds=800))
    assert registry.async_get_issue("homesec", issue_id) is not None
    assert await hass.config_entries.async_remove(entry.entry_id)
    assert not [i for d, i in registry.issues if d == "homesec"]
