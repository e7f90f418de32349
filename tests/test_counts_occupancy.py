"""Per-camera object counts and zone occupancy, fed the camera's clip events.

Zones come with the camera's settings (``CameraSettings.zones``, from the zone
editor); here the camera is given a "driveway" zone through its form, and the
detections name the zones they stand in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.homesec.const import DETECTION_HOLD_SECONDS, camera_signal
from custom_components.homesec.engine.models import (
    Box,
    Clip,
    ClipDetected,
    ClipFinished,
    ClipStatus,
    Detection,
    FilterResult,
    LifecycleEvent,
)

from .helpers import add_camera, setup_hub, setup_onnx_hub
from .test_camera_zones import add_tuned_camera

CAMERA = "front_door"
PERSONS = "sensor.front_door_person_count"
VEHICLES = "sensor.front_door_vehicle_count"
DRIVEWAY = "binary_sensor.front_door_driveway_occupancy"
T0 = datetime(2026, 5, 1, 22, 0, tzinfo=UTC)


def clip(minute: int) -> Clip:
    """A clip of the camera starting ``minute`` minutes after T0."""
    start = T0 + timedelta(minutes=minute)
    return Clip(
        clip_id=f"{CAMERA}_{start:%Y%m%d_%H%M%S}",
        camera_name=CAMERA,
        local_path=Path("/spool/clip.mp4"),
        start_ts=start,
        source_type="folder",
    )


def thing(label: str, *zones: str, stationary: bool = False) -> Detection:
    """A detected object standing in ``zones``."""
    detection = Detection(
        label=label,
        confidence=0.9,
        box=Box(x1=0.1, y1=0.1, x2=0.3, y2=0.6),
        frame_ts=1.0,
        stationary=stationary,
    )
    # Detections name their zones once zones are detected (Detection.zones).
    return detection.model_copy(update={"zones": list(zones)})


def detected(minute: int, *things: Detection) -> ClipDetected:
    """The camera's clip at ``minute`` showed ``things``."""
    groups = {"car": "vehicle", "truck": "vehicle"}
    return ClipDetected(
        clip=clip(minute),
        result=FilterResult(
            detected_classes=sorted({groups.get(t.label, t.label) for t in things}),
            confidence=0.9,
            frames_sampled=3,
            best=things[0],
            detections=list(things),
            stationary=all(t.stationary for t in things),
            model="yolo",
        ),
    )


def finished(minute: int, status: ClipStatus = ClipStatus.DONE) -> ClipFinished:
    """The camera's clip at ``minute`` finished."""
    return ClipFinished(clip=clip(minute), status=status)


async def tell(hass: HomeAssistant, entry: ConfigEntry, event: LifecycleEvent) -> None:
    """Hand a clip event to the camera's entities, as the runtime does."""
    async_dispatcher_send(hass, camera_signal(entry.entry_id, CAMERA), event)
    await hass.async_block_till_done()


def state(hass: HomeAssistant, entity_id: str) -> str:
    """The entity's state (it must exist)."""
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current.state


@pytest.fixture
async def zoned_hub(
    hass: HomeAssistant, config_dir: Path, red_model: Path
) -> ConfigEntry:
    """A person, vehicle and animal detecting hub; its camera has a driveway zone."""
    entry = await setup_onnx_hub(hass, red_model)
    hass.config_entries.async_update_entry(
        entry,
        options={**entry.options, "detect_classes": ["person", "vehicle", "animal"]},
    )
    await hass.async_block_till_done()
    await add_tuned_camera(
        hass, entry, config_dir / "drop", "Front door",
        areas={"zones": "driveway: 0,0.5 1,0.5 1,1 0,1"},
    )  # fmt: skip
    return entry


async def test_counts_follow_the_latest_clip(
    hass: HomeAssistant, zoned_hub: ConfigEntry
) -> None:
    """Two persons and a parked car; then an empty clip; late and failed clips."""
    # Given the camera's count sensors
    entry = zoned_hub
    assert (state(hass, PERSONS), state(hass, VEHICLES)) == ("0", "0")

    # When a clip shows two persons next to a parked car
    await tell(
        hass,
        entry,
        detected(1, thing("person"), thing("person"), thing("car", stationary=True)),
    )
    await tell(hass, entry, finished(1))
    shown = (state(hass, PERSONS), state(hass, VEHICLES))

    # And a clip processed late (older) shows one person
    await tell(hass, entry, detected(0, thing("person")))
    after_late = state(hass, PERSONS)

    # And a newer clip fails detection, then one finishes without a detection
    await tell(hass, entry, finished(2, ClipStatus.ERROR))
    after_error = state(hass, PERSONS)
    await tell(hass, entry, finished(3))

    # Then the counts are the latest clip's: parked car included, the late
    # clip and the failed one change nothing, the empty clip counts 0
    assert shown == ("2", "1")
    assert after_late == "2"
    assert after_error == "2"
    assert (state(hass, PERSONS), state(hass, VEHICLES)) == ("0", "0")
    attributes = hass.states.get(PERSONS).attributes  # type: ignore[union-attr]
    assert attributes["state_class"] == "measurement"
    assert attributes["friendly_name"] == "Front door Person count"


async def later(hass: HomeAssistant, seconds: float) -> None:
    """Let ``seconds`` pass for the timers."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done()


async def test_zone_occupancy_on_and_off(
    hass: HomeAssistant, zoned_hub: ConfigEntry
) -> None:
    """A passer-by holds the zone for the hold time, a parked car until gone."""
    # Given the camera's driveway occupancy sensor
    entry = zoned_hub
    assert state(hass, DRIVEWAY) == "off"
    attributes = hass.states.get(DRIVEWAY).attributes  # type: ignore[union-attr]
    assert attributes["device_class"] == "occupancy"
    assert attributes["friendly_name"] == "Front door driveway occupancy"

    # When a person walks through the driveway, and the hold time passes
    await tell(hass, entry, detected(1, thing("person", "driveway")))
    passing = state(hass, DRIVEWAY)
    await later(hass, DETECTION_HOLD_SECONDS + 1)
    after_hold = state(hass, DRIVEWAY)

    # And a car stands parked in the driveway, well past the hold time
    await tell(hass, entry, detected(2, thing("car", "driveway", stationary=True)))
    await later(hass, 3 * DETECTION_HOLD_SECONDS)
    parked = state(hass, DRIVEWAY)

    # And a person is seen outside the zone, then a clip shows nothing
    await tell(hass, entry, detected(3, thing("person", "porch")))
    outside = state(hass, DRIVEWAY)
    await tell(hass, entry, detected(4, thing("car", "driveway", stationary=True)))
    await tell(hass, entry, finished(5))

    # Then the zone is occupied while something stands in it, for the hold
    # time when it passed through, for as long as a parked car stays
    assert (passing, after_hold) == ("on", "off")
    assert parked == "on"
    assert outside == "off"
    assert state(hass, DRIVEWAY) == "off"


async def test_no_counts_for_motion_and_no_zones_without_zones(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A motion detector counts no objects; a camera without zones has none."""
    # Given a motion-detecting hub with a camera (no zones)
    entry = await setup_hub(hass)
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop)

    # When its entities are listed, then there is no count and no zone sensor
    ids = hass.states.async_entity_ids()
    assert not [i for i in ids if i.endswith("_count")]
    assert not [i for i in ids if i.endswith("_occupancy")]
