"""Parked objects in Home Assistant: real clips, the red-person model, a folder camera.

A clip whose person stands where the previous clip showed one is recorded as
stationary and raises no alert; a move, an absence longer than the setting,
a restart and clips processed out of order are each followed through.
"""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime, timedelta
import json
import logging
import os
from pathlib import Path
import shutil
import sqlite3
import subprocess
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.homesec.const import EVENT_ALERT, EVENT_DETECTION, camera_signal
from custom_components.homesec.engine.models import ClipFinished, LifecycleEvent
from custom_components.homesec.engine.policy import STATIONARY

from .clips import BACKGROUND
from .helpers import FolderHub, add_camera, set_options, setup_onnx_hub, wait_for
from .test_parked_scan import _clip_with

CAMERA = "front_door"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
COUNT = "sensor.front_door_person_count"


def _red_person_at(path: Path, x: int, y: int) -> Path:
    """A 2 s grey 640x360 clip with a red 100x160 "person" at (x, y) throughout."""
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", BACKGROUND.format(size="640x360", duration=2),
            "-f", "lavfi", "-i", "color=c=0xdc1414:size=100x160:rate=15:duration=2",
            "-filter_complex", f"[0][1]overlay=x={x}:y={y}:shortest=1",
            "-c:v", "libx264", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def at_gate(clip_dir: Path) -> Path:
    """A person standing by the gate (left)."""
    return _red_person_at(clip_dir / "at_gate.mp4", 120, 100)


@pytest.fixture(scope="session")
def at_door(clip_dir: Path) -> Path:
    """A person standing by the door (right)."""
    return _red_person_at(clip_dir / "at_door.mp4", 440, 120)


class Camera:
    """The hub's folder camera: drops clips with a start time, waits for them."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, folder: Path) -> None:
        """Follow the camera's finished clips and the hub's alerts."""
        self.hass = hass
        self.entry = entry
        self.folder = folder
        self.finished: list[str] = []
        self.alerts = async_capture_events(hass, EVENT_ALERT)
        self.detections = async_capture_events(hass, EVENT_DETECTION)
        self.follow()

    def follow(self) -> None:
        """(Again, after a reload) collect the camera's finished clips."""

        @callback
        def _finished(event: LifecycleEvent) -> None:
            if isinstance(event, ClipFinished):
                self.finished.append(event.clip.clip_id)

        self.entry.async_on_unload(
            async_dispatcher_connect(
                self.hass, camera_signal(self.entry.entry_id, CAMERA), _finished
            )
        )

    async def clip(self, source: Path, minute: float) -> str:
        """Drop ``source`` as a clip starting ``minute`` minutes after T0."""
        start = T0 + timedelta(minutes=minute)
        staged = self.folder.parent / f"{minute}.mp4"
        shutil.copyfile(source, staged)
        os.utime(staged, (start.timestamp(), start.timestamp()))
        staged.rename(self.folder / staged.name)
        clip_id = f"{CAMERA}_{start:%Y%m%d_%H%M%S}"
        await wait_for(lambda: clip_id in self.finished, what=f"{clip_id} finished")
        await self.hass.async_block_till_done()
        return clip_id

    def alerted(self) -> list[str]:
        """The clips that raised an alert, in order."""
        return [event.data["clip_id"] for event in self.alerts]


async def camera_hub(
    hass: HomeAssistant, config_dir: Path, red_model: Path, **options: object
) -> Camera:
    """A person-detecting hub whose camera alerts on every detection."""
    entry = await setup_onnx_hub(hass, red_model)
    if options:
        await set_options(hass, entry, **options)
    folder = config_dir / "drop"
    folder.mkdir()
    await add_camera(hass, entry, folder, notify_on_motion=True)
    return Camera(hass, entry, folder)


def _detected_event(database: Path, clip_id: str) -> dict[str, object]:
    with closing(sqlite3.connect(database)) as conn:
        (detail,) = conn.execute(
            "SELECT detail FROM clip_events WHERE clip_id = ? AND event_type = ?",
            (clip_id, "detected"),
        ).fetchone()
    result: dict[str, object] = json.loads(detail)
    return result


async def test_a_person_at_the_same_place_is_recorded_stationary_without_alert(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    at_gate: Path,
    at_door: Path,
) -> None:
    """Same place: recorded stationary, no alert, no detection event; moved: alert."""
    # Given a camera that alerts on every detection
    camera = await camera_hub(hass, config_dir, red_model)

    # When a person appears at the gate, stays there, then moves to the door
    arrived = await camera.clip(at_gate, 0)
    stayed = await camera.clip(at_gate, 1)
    moved = await camera.clip(at_door, 2)

    # Then the arrival and the move alert, the stay does not
    assert camera.alerted() == [arrived, moved]
    assert [e.data["clip_id"] for e in camera.detections] == [arrived, moved]

    # And the stay is recorded: stationary in its state and its history, with
    # the reason it did not alert
    repository = camera.entry.runtime_data.engine.repository
    state = await repository.get(stayed)
    assert state is not None and state.filter_result is not None
    assert state.filter_result.stationary
    assert [d.stationary for d in state.filter_result.detections] == [True]
    assert state.decision is not None
    assert (state.decision.notify, state.decision.reason) == (False, STATIONARY)
    database = config_dir / "homesec" / "homesec.db"
    assert await repository.flush()
    event = await hass.async_add_executor_job(_detected_event, database, stayed)
    assert event["stationary"] is True

    # And the person still counts
    assert hass.states.get(COUNT).state == "1"  # type: ignore[union-attr]


async def test_a_newcomer_beside_a_parked_person_alerts(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    at_gate: Path,
    clip_dir: Path,
) -> None:
    """A person arriving mid-clip next to a parked one is news: it alerts."""
    # Given a person parked at the gate (a first clip) and a later clip where
    # that person stays and another walks up to the door after 3 s
    camera = await camera_hub(hass, config_dir, red_model)
    newcomer = _clip_with(clip_dir / "gate_and_newcomer.mp4", newcomer_at=3.0)
    arrived = await camera.clip(at_gate, 0)

    # When the later clip is processed
    came = await camera.clip(newcomer, 1)

    # Then it alerts: the scan went past the frames showing only the parked
    # person, and its best frame is the newcomer's
    assert camera.alerted() == [arrived, came]
    state = await camera.entry.runtime_data.engine.repository.get(came)
    assert state is not None and state.filter_result is not None
    assert not state.filter_result.stationary
    assert state.filter_result.best is not None
    assert state.filter_result.best.frame_ts >= 3.0


async def test_absent_longer_than_the_setting_alerts_again(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    at_gate: Path,
    still_clip: Path,
) -> None:
    """Gone for 7 minutes with a 5 minute setting: back at the gate, it alerts."""
    # Given a camera whose hub forgets parked objects missing 5 minutes
    camera = await camera_hub(hass, config_dir, red_model, stationary_forget_minutes=5)

    # When a person stands at the gate, is gone for 3 min, back, gone 7 min, back
    first = await camera.clip(at_gate, 0)
    await camera.clip(still_clip, 1)
    back_soon = await camera.clip(at_gate, 4)
    empty = await camera.clip(still_clip, 5)
    count_when_empty = hass.states.get(COUNT).state  # type: ignore[union-attr]
    back_late = await camera.clip(at_gate, 12)

    # Then the short absence kept it stationary, the long one made it new
    assert camera.alerted() == [first, back_late]
    assert back_soon not in camera.alerted()
    assert empty not in camera.alerted()
    assert count_when_empty == "0"


async def test_stationary_state_survives_a_restart(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    at_gate: Path,
) -> None:
    """Reloaded between two clips of a standing person: still no second alert."""
    # Given a person who arrived at the gate
    camera = await camera_hub(hass, config_dir, red_model)
    arrived = await camera.clip(at_gate, 0)

    # When the hub restarts, and the next clip shows the person still there
    assert await hass.config_entries.async_reload(camera.entry.entry_id)
    await hass.async_block_till_done()
    camera.follow()
    stayed = await camera.clip(at_gate, 1)

    # Then only the arrival alerted
    assert camera.alerted() == [arrived]
    state = await camera.entry.runtime_data.engine.repository.get(stayed)
    assert state is not None and state.filter_result is not None
    assert state.filter_result.stationary


async def test_a_clip_processed_late_does_not_overwrite_newer_boxes(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    at_gate: Path,
    at_door: Path,
) -> None:
    """An older clip (person at the gate) after newer ones (at the door)."""
    # Given a person who stands at the door in the newest clips
    camera = await camera_hub(hass, config_dir, red_model)
    newest = await camera.clip(at_door, 10)

    # When an older clip with the person at the gate is processed late, then
    # a newer clip shows the person still at the door
    late = await camera.clip(at_gate, 5)
    still_there = await camera.clip(at_door, 11)

    # Then the late clip was judged on its own and left the door's box alone
    assert camera.alerted() == [newest, late]
    assert still_there not in camera.alerted()
    boxes = camera.entry.runtime_data.engine.stationary.boxes(CAMERA)
    assert [b.first_clip for b in boxes] == [newest]


def _saved(entry: ConfigEntry, stationary: object) -> dict[str, Any]:
    key = f"homesec.{entry.entry_id}"
    data = {"budget": None, "cooldowns": {}, "snoozes": {}, "stationary": stationary}
    return {"version": 1, "minor_version": 1, "key": key, "data": data}


def _boxes_of(*cameras: str) -> dict[str, Any]:
    box = {"x1": 0.1, "y1": 0.2, "x2": 0.3, "y2": 0.7}
    kept = {
        "clip_id": "c",
        "clip_start": T0.isoformat(),
        "boxes": [
            {"group": "person", "box": box, "first_clip": "c",
             "first_seen": T0.isoformat(), "missing_since": None}
        ],
    }  # fmt: skip
    return {"cameras": dict.fromkeys(cameras, kept)}


async def test_saved_boxes_of_removed_cameras_are_dropped(
    hass: HomeAssistant, folder_hub: FolderHub, hass_storage: dict[str, Any]
) -> None:
    """Boxes saved for a camera that no longer exists do not come back."""
    # Given a stopped hub whose saved state has boxes for its camera and for a
    # camera that was removed
    entry = folder_hub.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    key = f"homesec.{entry.entry_id}"
    hass_storage[key] = _saved(entry, _boxes_of(CAMERA, "removed_camera"))

    # When the hub starts and stops again
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    tracker = entry.runtime_data.engine.stationary
    kept = (len(tracker.boxes(CAMERA)), len(tracker.boxes("removed_camera")))
    assert await hass.config_entries.async_unload(entry.entry_id)

    # Then only the camera's boxes came back, and only they are saved
    assert kept == (1, 0)
    assert list(hass_storage[key]["data"]["stationary"]["cameras"]) == [CAMERA]


async def test_unreadable_saved_boxes_are_ignored_with_a_warning(
    hass: HomeAssistant,
    folder_hub: FolderHub,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Saved boxes that cannot be read cost nothing else that was saved."""
    # Given a stopped hub whose saved state has a snooze and unreadable boxes
    entry = folder_hub.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    key = f"homesec.{entry.entry_id}"
    saved = _saved(entry, {"cameras": {CAMERA: {"boxes": "nonsense"}}})
    until = datetime.now(UTC) + timedelta(hours=1)
    saved["data"]["snoozes"] = {CAMERA: until.isoformat()}
    hass_storage[key] = saved

    # When the hub starts
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    # Then it is loaded with the snooze and no boxes, and one warning says why
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.controls.snoozes() == {CAMERA: until}
    assert entry.runtime_data.engine.stationary.boxes(CAMERA) == ()
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name.endswith("persisted_state") and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "parked objects" in warnings[0]
