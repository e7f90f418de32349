"""A camera's change reloads that camera alone; saving options trims nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
import threading
from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.homesec.const import (
    DOMAIN,
    EVENT_ALERT,
    EVENT_DETECTION,
    RETENTION_INTERVAL_MINUTES,
    SPOOL_PATH,
    SUBENTRY_CAMERA,
)
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.sources.folder import FolderSettings, FolderSource
from custom_components.homesec.engine.spool import Spool

from .helpers import FolderHub, add_camera, set_options, wait_for

FRONT = "front_door"


def _subentry_id(entry: ConfigEntry, camera_id: str) -> str:
    return next(
        sub.subentry_id
        for sub in entry.subentries.values()
        if sub.data.get("camera_id") == camera_id
    )


def _entity_ids(hass: HomeAssistant, entry: ConfigEntry, camera_id: str) -> set[str]:
    """The entity ids registered for a camera's subentry."""
    subentry_id = _subentry_id(entry, camera_id)
    return {
        item.entity_id
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if item.config_subentry_id == subentry_id
    }


def _record_states(hass: HomeAssistant, entity_ids: set[str]) -> list[str | None]:
    """Every state the entities take from now on (None: the state was removed)."""
    seen: list[str | None] = []

    @callback
    def _changed(event: Event[Any]) -> None:
        if event.data["entity_id"] in entity_ids:
            new = event.data["new_state"]
            seen.append(new.state if new is not None else None)

    hass.bus.async_listen(EVENT_STATE_CHANGED, _changed)
    return seen


async def _reconfigure(
    hass: HomeAssistant,
    entry: ConfigEntry,
    camera_id: str,
    common: dict[str, Any],
    folder: dict[str, Any],
) -> None:
    """Walk a camera's reconfigure flow to its end."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA),
        context={
            "source": SOURCE_RECONFIGURE,
            "subentry_id": _subentry_id(entry, camera_id),
        },
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], common
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], folder
    )
    assert result["type"] is FlowResultType.ABORT, result.get("errors")
    await hass.async_block_till_done()


async def _idle(entry: ConfigEntry) -> None:
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )


async def test_adding_a_camera_leaves_the_other_running(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path, motion_clip: Path
) -> None:
    """The first camera's entities stay available and its source keeps running."""
    # Given a hub whose first camera has entities and a running source
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    source = runtime.sources[FRONT]
    front_entities = _entity_ids(hass, entry, FRONT)
    assert len(front_entities) > 5
    states = _record_states(hass, front_entities)

    # When a second camera is added
    garage = config_dir / "garage"
    garage.mkdir()
    await add_camera(hass, entry, garage, name="Garage")

    # Then the first camera's entities never went unavailable, nor were removed,
    # and its source is the same, still running
    assert STATE_UNAVAILABLE not in states
    assert None not in states
    assert all(hass.states.get(e).state != STATE_UNAVAILABLE for e in front_entities)
    assert runtime.sources[FRONT] is source
    assert entry.runtime_data.runtime is runtime
    # And the new camera has its entities and device, and its folder is watched
    garage_entities = _entity_ids(hass, entry, "garage")
    assert {e.split(".", 1)[1] for e in garage_entities} == {
        e.split(".", 1)[1].replace("front_door", "garage") for e in front_entities
    }
    assert all(hass.states.get(e) is not None for e in garage_entities)
    detections = async_capture_events(hass, EVENT_DETECTION)
    (garage / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(detections) == 1, what="the new camera's clip")
    assert detections[0].data["camera_name"] == "garage"
    await wait_for(
        lambda: hass.states.get("sensor.garage_clips_today").state == "1",
        what="the new camera's clip count",
    )
    # And the first camera still takes clips
    (folder_hub.folder / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(detections) == 2, what="the first camera's clip")
    assert detections[1].data["camera_name"] == FRONT
    await _idle(entry)


async def test_reconfiguring_a_camera_applies_to_it_alone(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path, motion_clip: Path
) -> None:
    """A camera's new name and alert rule apply at once; the other camera runs on."""
    # Given two cameras that alert on motion
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    garage = config_dir / "garage"
    garage.mkdir()
    await add_camera(hass, entry, garage, name="Garage")
    front_source = runtime.sources[FRONT]
    garage_source = runtime.sources["garage"]
    states = _record_states(hass, _entity_ids(hass, entry, FRONT))

    # When the garage camera is renamed and stops alerting on motion
    await _reconfigure(
        hass,
        entry,
        "garage",
        {"name": "Side garage", "notify_on_motion": "off"},
        {"watch_folder": str(garage), "settle_seconds": 2},
    )

    # Then its device has the new name and its source was replaced
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, _subentry_id(entry, "garage")), entry.entry_id
    )
    assert device is not None
    assert device.name == "Side garage"
    assert runtime.sources["garage"] is not garage_source
    assert entry.runtime_data.cameras.title("garage") == "Side garage"
    # And the other camera was not touched
    assert runtime.sources[FRONT] is front_source
    assert STATE_UNAVAILABLE not in states
    assert None not in states
    assert entry.runtime_data.runtime is runtime
    # And a clip of each camera follows each camera's rule now
    alerts = async_capture_events(hass, EVENT_ALERT)
    detections = async_capture_events(hass, EVENT_DETECTION)
    (garage / "clip.mp4").write_bytes(motion_clip.read_bytes())
    (folder_hub.folder / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(detections) == 2, what="both clips")
    await _idle(entry)
    assert [alert.data["camera_name"] for alert in alerts] == [FRONT]


async def test_removing_a_camera_stops_it_alone(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path, motion_clip: Path
) -> None:
    """A removed camera's source stops and its entities go; the other works on."""
    # Given two cameras
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    garage = config_dir / "garage"
    garage.mkdir()
    await add_camera(hass, entry, garage, name="Garage")
    garage_entities = _entity_ids(hass, entry, "garage")
    subentry_id = _subentry_id(entry, "garage")
    front_source = runtime.sources[FRONT]
    states = _record_states(hass, _entity_ids(hass, entry, FRONT))

    # When the garage camera is removed
    assert hass.config_entries.async_remove_subentry(entry, subentry_id)
    await hass.async_block_till_done()

    # Then its source stopped, its entities and device are gone
    assert "garage" not in runtime.sources
    assert "garage" not in entry.runtime_data.cameras
    assert all(hass.states.get(e) is None for e in garage_entities)
    assert _registered_for(hass, entry, subentry_id) == []
    assert (
        dr.async_get(hass).async_get_device_by_identifier(
            (DOMAIN, subentry_id), entry.entry_id
        )
        is None
    )
    # And the other camera was not touched and still takes clips, while a
    # clip dropped for the removed camera at the same time stays in its folder
    assert runtime.sources[FRONT] is front_source
    assert entry.runtime_data.runtime is runtime
    detections = async_capture_events(hass, EVENT_DETECTION)
    (garage / "clip.mp4").write_bytes(motion_clip.read_bytes())
    (folder_hub.folder / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(detections) == 1, what="the first camera's clip")
    await _idle(entry)
    assert [event.data["camera_name"] for event in detections] == [FRONT]
    assert (garage / "clip.mp4").exists()
    assert STATE_UNAVAILABLE not in states
    assert None not in states


def _registered_for(
    hass: HomeAssistant, entry: ConfigEntry, subentry_id: str
) -> list[str]:
    return [
        item.entity_id
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if item.config_subentry_id == subentry_id
    ]


async def _spooled(hass: HomeAssistant, config_dir: Path) -> list[Path]:
    spool = config_dir / SPOOL_PATH
    return sorted(await hass.async_add_executor_job(lambda: list(spool.rglob("*.mp4"))))


async def test_saving_options_runs_no_retention_pass(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path, motion_clip: Path
) -> None:
    """An over-limit spool is trimmed by the hourly pass, not by saving options."""
    # Given a spool limit every clip exceeds, and a processed clip in the spool
    entry = folder_hub.entry
    await set_options(hass, entry, retention_max_gb=1e-9)
    await hass.async_block_till_done(wait_background_tasks=True)
    detections = async_capture_events(hass, EVENT_DETECTION)
    (folder_hub.folder / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(detections) == 1, what="the clip")
    await _idle(entry)
    assert len(await _spooled(hass, config_dir)) == 1

    # When an option other than a limit is saved
    before = entry.runtime_data.runtime
    await set_options(hass, entry, retention_max_gb=1e-9, notify_on_motion=True)
    await hass.async_block_till_done(wait_background_tasks=True)

    # Then the hub reloaded with it, but ran no retention pass: the clip is
    # still spooled
    runtime = entry.runtime_data.runtime
    assert runtime is not before
    assert entry.runtime_data.settings.notify_on_motion is True
    assert runtime.last_retention is None
    assert len(await _spooled(hass, config_dir)) == 1

    # When the hourly pass comes
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(minutes=RETENTION_INTERVAL_MINUTES + 1)
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    # Then it trims the spool
    assert runtime.last_retention is not None
    assert await _spooled(hass, config_dir) == []


async def test_a_new_hub_title_reloads_nothing(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """Renaming the hub's entry changes nothing HomeSec runs."""
    # Given a running hub
    entry = folder_hub.entry
    runtime = entry.runtime_data.runtime
    source = runtime.sources[FRONT]

    # When its entry is renamed
    hass.config_entries.async_update_entry(entry, title="House")
    await hass.async_block_till_done()

    # Then the same runtime and source run on
    assert entry.runtime_data.runtime is runtime
    assert runtime.sources[FRONT] is source


async def test_changed_limits_apply_at_once(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path, motion_clip: Path
) -> None:
    """Lowering the spool limit in the options trims the spool when saved."""
    # Given a processed clip in the spool, within the default limits
    entry = folder_hub.entry
    detections = async_capture_events(hass, EVENT_DETECTION)
    (folder_hub.folder / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(detections) == 1, what="the clip")
    await _idle(entry)
    assert len(await _spooled(hass, config_dir)) == 1

    # When a limit the clip exceeds is saved
    await set_options(hass, entry, retention_max_gb=1e-9)
    await hass.async_block_till_done(wait_background_tasks=True)

    # Then the reloaded hub trimmed the spool at its start
    assert entry.runtime_data.runtime.last_retention is not None
    assert await _spooled(hass, config_dir) == []


async def test_a_clip_arriving_during_a_reconfigure_is_processed(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path, motion_clip: Path
) -> None:
    """Neither a clip still settling in the folder nor one the stopped source
    left in the spool is lost when the camera is reconfigured."""
    # Given a camera with a slow settle time, a clip settling in its folder, and
    # a clip its source moved into the spool but never handed over
    entry = folder_hub.entry
    await _reconfigure(
        hass,
        entry,
        FRONT,
        {"name": "Front door", "notify_on_motion": "on"},
        {"watch_folder": str(folder_hub.folder), "settle_seconds": 30},
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    detections = async_capture_events(hass, EVENT_DETECTION)
    (folder_hub.folder / "settling.mp4").write_bytes(motion_clip.read_bytes())
    left = config_dir / SPOOL_PATH / FRONT / f"{FRONT}_20261130_235959.mp4"
    await hass.async_add_executor_job(left.parent.mkdir, 0o755, True, True)
    await hass.async_add_executor_job(left.write_bytes, motion_clip.read_bytes())

    # When the camera is reconfigured with a short settle time
    await _reconfigure(
        hass,
        entry,
        FRONT,
        {"name": "Front door", "notify_on_motion": "on"},
        {"watch_folder": str(folder_hub.folder), "settle_seconds": 1},
    )

    # Then both clips are processed, once each
    await wait_for(lambda: len(detections) == 2, what="both clips")
    await _idle(entry)
    clip_ids = sorted(event.data["clip_id"] for event in detections)
    assert clip_ids[0] == left.stem
    assert len(set(clip_ids)) == 2
    assert not (folder_hub.folder / "settling.mp4").exists()


async def test_a_stopped_folder_source_finishes_its_move(
    tmp_path: Path, motion_clip: Path
) -> None:
    """Stopping a folder source mid-move waits until the clip is whole in the
    spool (the runtime resumes it from there), instead of abandoning the move."""
    # Given a folder source whose move of a clip into the spool is under way
    spool = Spool(tmp_path / "spool")
    watched = tmp_path / "watched"
    watched.mkdir()
    moving, release = threading.Event(), threading.Event()

    async def run_blocking(target: Callable[..., Any], *args: Any) -> Any:
        def work() -> Any:
            if getattr(target, "__name__", "") == "adopt":
                moving.set()
                release.wait(30)
            return target(*args)

        return await asyncio.to_thread(work)

    source = FolderSource(
        FRONT,
        FolderSettings(watch_dir=watched, settle_seconds=0.01, poll_seconds=0.01),
        spool,
        run_blocking,
    )
    handed_over: list[Clip] = []

    async def sink(clip: Clip) -> None:
        handed_over.append(clip)

    await source.start(sink)
    (watched / "clip.mp4").write_bytes(motion_clip.read_bytes())
    try:
        assert await asyncio.to_thread(moving.wait, 30)

        # When the source is stopped
        stopping = asyncio.create_task(source.stop())
        await asyncio.sleep(0.2)

        # Then the stop waits for the move, and after it the clip is whole in
        # the spool (not handed over: the runtime resumes it)
        assert not stopping.done()
    finally:
        release.set()
    await stopping
    spooled = list(spool.camera_dir(FRONT).glob("*.mp4"))
    assert [path.read_bytes() for path in spooled] == [motion_clip.read_bytes()]
    assert not (watched / "clip.mp4").exists()
    assert handed_over == []


async def test_a_failing_camera_fixed_by_reconfigure_is_well_at_once(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path
) -> None:
    """Its repair issue goes and its entities are available again right away."""
    # Given a camera whose folder is gone for long: a repair issue, entities
    # unavailable
    entry, drop = folder_hub.entry, folder_hub.folder
    hub = entry.runtime_data
    source = hub.runtime.sources[FRONT]
    drop.rmdir()
    await source.poll_once(hub.engine.pipeline.submit)
    start = dt_util.utcnow()
    hub.health.check(start)
    hub.health.check(start + timedelta(seconds=360))
    await hass.async_block_till_done()
    issues = ir.async_get(hass)
    assert issues.async_get_issue(DOMAIN, f"source_failing_{FRONT}") is not None
    assert hass.states.get(f"sensor.{FRONT}_clips_today").state == STATE_UNAVAILABLE

    # When the camera is reconfigured to watch a folder that exists
    moved = config_dir / "moved"
    moved.mkdir()
    await _reconfigure(
        hass,
        entry,
        FRONT,
        {"name": "Front door", "notify_on_motion": "on"},
        {"watch_folder": str(moved), "settle_seconds": 1},
    )

    # Then its issue is gone and its entities are available, before any check
    assert issues.async_get_issue(DOMAIN, f"source_failing_{FRONT}") is None
    assert hass.states.get(f"sensor.{FRONT}_clips_today").state != STATE_UNAVAILABLE
    assert hub.health.source_healthy(FRONT)
