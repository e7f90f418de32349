"""Each camera's picture entity and its buttons (analyze last clip, record now)."""

from __future__ import annotations

from pathlib import Path

from homeassistant.components import camera
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.homesec import camera as camera_platform
from custom_components.homesec.clip_access import ClipAccess
from custom_components.homesec.const import DOMAIN, EVENT_DETECTION, SUBENTRY_CAMERA
from custom_components.homesec.engine.detect.frames import still_jpeg
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.user_errors import refused

from .doubles.rtsp_server import RtspServer
from .helpers import setup_folder_camera, setup_hub, wait_for


async def press(hass: HomeAssistant, entity_id: str) -> None:
    """Press a button as the UI does."""
    await hass.services.async_call(
        "button", "press", {"entity_id": entity_id}, blocking=True
    )


async def test_folder_camera_shows_its_last_clip_and_analyzes_it_again(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path
) -> None:
    """The picture is the newest clip's first frame; the button re-runs it."""
    # Given a folder camera without clips
    entry, drop = await setup_folder_camera(hass, config_dir, "Yard")
    detections = async_capture_events(hass, EVENT_DETECTION)

    # When its picture is asked for, or its last clip analyzed
    with pytest.raises(HomeAssistantError):
        await camera.async_get_image(hass, "camera.yard")
    with pytest.raises(HomeAssistantError) as no_clip:
        await press(hass, "button.yard_analyze_last_clip")

    # Then there is none yet, and the error says so; a folder cannot record
    assert no_clip.value.translation_key == "no_clip"
    assert hass.states.get("button.yard_record_now") is None
    assert hass.states.get("camera.yard").attributes["supported_features"] == 0

    # When a clip arrives and is processed
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(detections) == 1, what="the clip's detection")
    pipeline = entry.runtime_data.engine.pipeline
    await wait_for(lambda: pipeline.in_flight == 0, what="the clip done")

    # Then the picture is its first frame, and there is no stream
    image = await camera.async_get_image(hass, "camera.yard")
    assert image.content.startswith(b"\xff\xd8")
    assert await camera.async_get_stream_source(hass, "camera.yard") is None

    # When the clip is analyzed again from the button
    await press(hass, "button.yard_analyze_last_clip")
    await wait_for(lambda: len(detections) == 2, what="the second detection")

    # Then the same clip went through the pipeline once more
    assert detections[0].data["clip_id"] == detections[1].data["clip_id"]
    await wait_for(lambda: pipeline.in_flight == 0, what="the clip done again")

    # And after a restart the newest clip is found in the spool
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await press(hass, "button.yard_analyze_last_clip")
    await wait_for(lambda: len(detections) == 3, what="the third detection")
    assert detections[2].data["clip_id"] == detections[0].data["clip_id"]


def _seen(clips: ClipAccess, camera_id: str) -> Clip:
    clip = clips.seen(camera_id)
    assert clip is not None
    return clip


async def test_a_corrupt_clip_keeps_the_last_good_picture(
    hass: HomeAssistant,
    config_dir: Path,
    motion_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The picture is decoded once per clip; a clip that failed is never shown."""
    # Given a camera whose picture shows its first clip (decodes are counted)
    decoded: list[Path] = []

    def counting_still(path: Path) -> bytes:
        decoded.append(path)
        return still_jpeg(path)

    monkeypatch.setattr(camera_platform, "still_jpeg", counting_still)
    entry, drop = await setup_folder_camera(hass, config_dir, "Yard")
    clips = entry.runtime_data.clips
    pipeline = entry.runtime_data.engine.pipeline
    (drop / "good.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: clips.seen("yard") is not None, what="the first clip")
    first = await camera.async_get_image(hass, "camera.yard")
    again = await camera.async_get_image(hass, "camera.yard")
    good_id = _seen(clips, "yard").clip_id

    # When a corrupt file arrives as the newest clip, and its processing fails
    (drop / "broken.mp4").write_bytes(b"this is not a video")
    await wait_for(
        lambda: _seen(clips, "yard").clip_id != good_id, what="the corrupt clip"
    )
    await wait_for(lambda: pipeline.in_flight == 0, what="the corrupt clip done")
    kept = await camera.async_get_image(hass, "camera.yard")

    # Then the good clip was decoded once, the failed one never, and the
    # picture is still the good clip's frame
    assert [path.name for path in decoded] == [f"{good_id}.mp4"]
    assert first.content == again.content == kept.content


async def test_rtsp_camera_streams_and_records_on_demand(
    hass: HomeAssistant, config_dir: Path, rtsp_server: RtspServer
) -> None:
    """An RTSP camera streams live; Record now records without motion."""
    # Given an RTSP camera that never sees motion (all pixels must change)
    entry = await setup_hub(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Gate", "source_type": "rtsp"}
    )
    url = rtsp_server.url("camera_loop.mp4")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"url": url, "username": "viewer", "password": "pw", "rtsp_transport": "tcp",
         "pixel_threshold": 255, "min_changed_pct": 100, "pre_roll_s": 0,
         "stop_delay_s": 2, "max_recording_s": 20},
    )  # fmt: skip
    await hass.async_block_till_done()
    clips = entry.runtime_data.clips

    # When the Record now button is pressed
    await press(hass, "button.gate_record_now")
    await wait_for(
        lambda: clips.seen("gate") is not None, timeout=40, what="the recording"
    )

    # Then one clip was recorded, and the camera streams with its credentials
    assert _seen(clips, "gate").source_type == "rtsp"
    state = hass.states.get("camera.gate")
    assert state.attributes["supported_features"] == camera.CameraEntityFeature.STREAM
    source = await camera.async_get_stream_source(hass, "camera.gate")
    assert source == url.replace("rtsp://", "rtsp://viewer:pw@")

    # When the record_clip action asks for another recording by the camera's device
    first = _seen(clips, "gate").clip_id
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, next(iter(entry.subentries))), entry.entry_id
    )
    assert device is not None
    await hass.services.async_call(
        DOMAIN, "record_clip", {"camera": device.id, "duration": 1}, blocking=True
    )

    # Then a second clip is recorded
    await wait_for(
        lambda: _seen(clips, "gate").clip_id != first, timeout=40, what="a clip"
    )
    await hass.config_entries.async_unload(entry.entry_id)


async def test_record_now_on_a_disabled_camera_is_refused(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A camera whose source is not running cannot record."""
    # Given a hub
    entry = await setup_hub(hass)

    # When the hub is asked to record a camera it does not run
    refusal = entry.runtime_data.clips.record_now("nowhere")

    # Then it refuses, and the user's error is translated
    assert refusal is not None
    error = refused(refusal, entry.runtime_data.cameras)
    assert isinstance(error, HomeAssistantError)
    assert error.translation_key == "cannot_record"
