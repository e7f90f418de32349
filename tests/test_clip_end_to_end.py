"""A real clip travels from a watched folder through every layer into HA."""

from __future__ import annotations

import asyncio
from contextlib import closing
from datetime import timedelta
from functools import partial
from pathlib import Path
import sqlite3

from homeassistant.components import persistent_notification
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.homesec.const import (
    DETECTION_HOLD_SECONDS,
    EVENT_ALERT,
    EVENT_DETECTION,
)
from custom_components.homesec.engine.sources.folder import FolderSource
from custom_components.homesec.source_kinds import folder as folder_kind

from .helpers import FolderHub, add_camera, setup_hub, wait_for

ALERT_FIELDS = {
    "clip_id",
    "camera_name",
    "storage_uri",
    "view_url",
    "snapshot_url",
    "clip_url",
    "risk_level",
    "activity_type",
    "summary",
    "notify_reason",
    "detected_classes",
    "confidence",
    "zones",
    "ts",
    "dedupe_key",
    "upload_failed",
    "vlm_failed",
    "reason",
    "reason_params",
}


class _Clock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _parts(data: bytes, count: int) -> list[bytes]:
    size = len(data) // count + 1
    return [data[start : start + size] for start in range(0, len(data), size)]


def _append(dest: Path, part: bytes) -> None:
    with dest.open("ab") as out:
        out.write(part)


def _drop(source: Path, dest: Path) -> None:
    """Put a copy of ``source`` at ``dest`` at once (written aside, then renamed)."""
    partial_file = dest.with_name(dest.name + ".part")  # ignored by the source
    partial_file.write_bytes(source.read_bytes())
    partial_file.replace(dest)


def _clip_state_rows(database: Path) -> list[tuple[str, str, str]]:
    with closing(sqlite3.connect(database)) as conn:
        return conn.execute(
            "SELECT clip_id, camera_name, status FROM clip_states"
        ).fetchall()


async def _wait_until_done(
    hass: HomeAssistant, database: Path
) -> list[tuple[str, str, str]]:
    """Poll SQLite until every recorded clip finished; return the rows."""
    rows: list[tuple[str, str, str]] = []
    for _ in range(300):
        if database.exists():
            rows = await hass.async_add_executor_job(_clip_state_rows, database)
            if rows and all(row[2] == "done" for row in rows):
                return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"clips not done: {rows}")


def _clip_event_types(database: Path, clip_id: str) -> list[str]:
    with closing(sqlite3.connect(database)) as conn:
        rows = conn.execute(
            "SELECT event_type FROM clip_events WHERE clip_id = ? ORDER BY id",
            (clip_id,),
        ).fetchall()
    return [row[0] for row in rows]


async def test_clip_from_folder_reaches_entities_events_notification_and_sqlite(
    hass: HomeAssistant,
    config_dir: Path,
    motion_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slowly written clip is taken once complete and alerts everywhere."""
    # Given a hub on embedded defaults and a folder camera that alerts on motion,
    # whose source reads a clock the test moves and polls when the test says
    clock = _Clock()
    monkeypatch.setattr(folder_kind, "FolderSource", partial(FolderSource, clock=clock))
    drop = config_dir / "drop" / "front_door"
    drop.mkdir(parents=True)
    entry = await setup_hub(hass)
    await add_camera(hass, entry, drop, settle_seconds=1, notify_on_motion=True)
    source = entry.runtime_data.runtime.sources["front_door"]
    assert isinstance(source, FolderSource)
    await source.stop()  # no background polls: the test makes each one
    submit = entry.runtime_data.engine.pipeline.submit
    alerts = async_capture_events(hass, EVENT_ALERT)
    detections = async_capture_events(hass, EVENT_DETECTION)
    assert hass.states.get("event.front_door_detection").state == STATE_UNKNOWN
    assert hass.states.get("binary_sensor.front_door_motion").state == STATE_OFF

    # When a camera writes a real H.264 clip into the folder in six parts, and
    # the source polls after each part and again 0.75 s later (settle time: 1 s)
    incoming = drop / "clip0001.mp4"
    spooled = config_dir / "homesec" / "spool" / "front_door"
    taken_while_growing: list[int] = []
    for part in _parts(motion_clip.read_bytes(), 6):
        await hass.async_add_executor_job(_append, incoming, part)
        taken_while_growing.append(await source.poll_once(submit))
        clock.advance(0.75)
        taken_while_growing.append(await source.poll_once(submit))

    # Then nothing is taken while the file is still growing or not yet settled
    assert taken_while_growing == [0] * 12
    await hass.async_block_till_done()
    assert not alerts
    assert not spooled.exists() or not any(spooled.iterdir())
    assert incoming.stat().st_size == motion_clip.stat().st_size

    # When the complete file has held still for the settle time
    clock.advance(0.25)
    taken = await source.poll_once(submit)

    # Then it is taken, once
    assert taken == 1
    await wait_for(lambda: len(alerts) == 1, what="the homesec_alert event")
    await hass.async_block_till_done()

    # Then the alert carries every payload field of the design, and only once,
    # and the bus event names the camera's device and entity (for the logbook)
    payload = alerts[0].data
    assert set(payload) == ALERT_FIELDS | {"device_id", "entity_id"}
    assert payload["entity_id"] == "camera.front_door"
    assert payload["camera_name"] == "front_door"
    assert payload["clip_id"].startswith("front_door_")
    assert payload["dedupe_key"] == payload["clip_id"]
    assert payload["detected_classes"] == ["motion"]
    assert payload["upload_failed"] is False
    assert payload["vlm_failed"] is False
    assert payload["storage_uri"] == f"local:front_door/{payload['clip_id']}.mp4"
    assert payload["notify_reason"] == "this camera alerts on every detection."
    assert (payload["reason"], payload["reason_params"]) == ("motion_alerts_on", {})
    assert len(detections) == 1
    assert detections[0].data["clip_id"] == payload["clip_id"]

    # Then the clip moved from the folder into the spool and local storage, whole
    assert not incoming.exists()
    stored = config_dir / "homesec" / "clips" / "front_door"
    name = f"{payload['clip_id']}.mp4"
    assert (spooled / name).read_bytes() == motion_clip.read_bytes()
    assert (stored / name).read_bytes() == motion_clip.read_bytes()

    # Then the event entity triggered with the motion type
    event_state = hass.states.get("event.front_door_detection")
    assert event_state.state != STATE_UNKNOWN
    assert event_state.attributes["event_type"] == "motion"
    assert event_state.attributes["clip_id"] == payload["clip_id"]

    # Then the motion binary sensor is on
    assert hass.states.get("binary_sensor.front_door_motion").state == STATE_ON

    # Then a persistent notification describes the alert, with a clip link
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    notification = notifications[f"homesec_{payload['clip_id']}"]
    assert notification["title"] == "Front door: Motion"
    assert notification["message"].startswith("**Motion** at **Front door**, ")
    clip_link = f"[Open the clip](/api/homesec/clips/{payload['clip_id']}?expires="
    assert clip_link in notification["message"]

    # Then the clip's state and history are in SQLite
    database = config_dir / "homesec" / "homesec.db"
    rows = await _wait_until_done(hass, database)
    assert rows == [(payload["clip_id"], "front_door", "done")]
    history = await hass.async_add_executor_job(
        _clip_event_types, database, payload["clip_id"]
    )
    assert history[0] == "queued"
    assert {"uploaded", "detected", "decided", "notified"} <= set(history)
    assert history[-1] == "finished"

    # When the hold time passes without new motion
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=DETECTION_HOLD_SECONDS + 1)
    )
    await hass.async_block_till_done()

    # Then the motion binary sensor turns off again
    assert hass.states.get("binary_sensor.front_door_motion").state == STATE_OFF


async def test_still_clip_raises_no_alert(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub, still_clip: Path
) -> None:
    """A clip without motion is processed and recorded, but alerts nobody."""
    # Given a folder camera that alerts on motion
    drop = folder_hub.folder
    alerts = async_capture_events(hass, EVENT_ALERT)
    database = config_dir / "homesec" / "homesec.db"

    # When a clip in which nothing moves is dropped into the folder
    await hass.async_add_executor_job(_drop, still_clip, drop / "a.mp4")

    # Then it is processed to the end without an alert or a motion state
    rows = await _wait_until_done(hass, database)
    assert len(rows) == 1
    assert alerts == []
    assert hass.states.get("binary_sensor.front_door_motion").state == STATE_OFF
    assert hass.states.get("event.front_door_detection").state == STATE_UNKNOWN


async def test_camera_switches(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """Notifications off: the event fires, no notification; detection off: nothing."""
    # Given a camera that alerts on motion, with its notifications switched off
    drop = folder_hub.folder
    alerts = async_capture_events(hass, EVENT_ALERT)
    detections = async_capture_events(hass, EVENT_DETECTION)
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.front_door_notifications"},
        blocking=True,
    )  # fmt: skip
    database = config_dir / "homesec" / "homesec.db"

    # When a clip with motion arrives
    await hass.async_add_executor_job(_drop, motion_clip, drop / "a.mp4")
    await _wait_until_done(hass, database)

    # Then automations still get the alert, but no notification was created
    assert len(alerts) == 1
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    assert f"homesec_{alerts[0].data['clip_id']}" not in notifications

    # When detection is switched off too and another clip arrives
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": "switch.front_door_detection"},
        blocking=True,
    )  # fmt: skip
    await hass.async_add_executor_job(_drop, motion_clip, drop / "b.mp4")
    for _ in range(300):
        rows = await hass.async_add_executor_job(_clip_state_rows, database)
        if len(rows) == 2 and all(row[2] == "done" for row in rows):
            break
        await asyncio.sleep(0.1)

    # Then the clip was kept and processed, but nothing was detected or alerted
    assert len(rows) == 2
    assert len(detections) == 1
    assert len(alerts) == 1
    assert hass.states.get("switch.front_door_detection").state == "off"

    # When both are switched on again and a third clip arrives
    for switch in ("detection", "notifications"):
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": f"switch.front_door_{switch}"},
            blocking=True,
        )  # fmt: skip
    await hass.async_add_executor_job(_drop, motion_clip, drop / "c.mp4")
    await wait_for(lambda: len(alerts) == 2, what="the third clip's alert")
    await hass.async_block_till_done()

    # Then it is detected, alerted and notified again
    assert len(detections) == 2
    notifications = persistent_notification._async_get_or_create_notifications(hass)
    assert f"homesec_{alerts[1].data['clip_id']}" in notifications
