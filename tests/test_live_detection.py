"""Live detection on a real RTSP camera: the phone hears of a person while the
clip is still being recorded, and the clip's alert replaces that word."""

from __future__ import annotations

from collections.abc import Generator
import logging
from pathlib import Path
import time
from typing import Any

from homeassistant.components import camera as camera_component
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.homesec.const import (
    EVENT_ALERT,
    EVENT_DETECTION,
    SUBENTRY_CAMERA,
)

from .doubles.rtsp_server import RtspServer
from .helpers import set_options, setup_onnx_hub, wait_for
from .live_streams import make_streams

PHONE = "notify.mobile_app_pixel"


@pytest.fixture(scope="module")
def live_streams(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The person-walks-in streams (main and substream, with and without)."""
    return make_streams(tmp_path_factory.mktemp("live_streams"))


@pytest.fixture
def camera(live_streams: Path) -> Generator[RtspServer]:
    """A real RTSP server on 127.0.0.1 serving the camera's streams."""
    server = RtspServer(live_streams)
    server.start()
    yield server
    server.stop()


async def _hub(hass: HomeAssistant, model: Path, min_hits: int = 1) -> ConfigEntry:
    """A hub finding people with the red model (no summaries), phone targeted."""
    entry = await setup_onnx_hub(hass, model, min_hits=min_hits)
    await set_options(hass, entry, notify_services=[PHONE], min_hits=min_hits)
    return entry


async def _add_camera(
    hass: HomeAssistant,
    entry: ConfigEntry,
    server: RtspServer,
    *,
    live: bool = True,
    notify_on_motion: bool = True,
    streams: str = "",
) -> None:
    """Add the "Porch" RTSP camera with its substream (``streams``: their prefix)."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "name": "Porch",
            "source_type": "rtsp",
            "notify_on_motion": "on" if notify_on_motion else "off",
        },
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"url": server.url(f"{streams}main.mp4"),
         "substream_url": server.url(f"{streams}sub.mp4"),
         "rtsp_transport": "tcp", "pre_roll_s": 1, "stop_delay_s": 2,
         "max_recording_s": 60, "live_detection": live},
    )  # fmt: skip
    await hass.async_block_till_done()


def _tags(calls: list[ServiceCall]) -> list[str]:
    return [str(call.data["data"]["tag"]) for call in calls]


async def test_a_person_is_told_live_and_the_alert_replaces_the_word(
    hass: HomeAssistant, config_dir: Path, red_model: Path, camera: RtspServer
) -> None:
    """Person mid-recording: live event and phone word first, the alert in place."""
    # Given a hub with a phone, and an RTSP camera with live detection
    phone = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await _hub(hass, red_model)
    detections: list[tuple[dict[str, Any], bool, str | None]] = []
    clips = entry.runtime_data.clips
    pipeline = entry.runtime_data.engine.pipeline

    @callback
    def _on_detection(event: Event) -> None:
        handed = clips.seen("porch")
        detections.append(
            (
                dict(event.data),
                pipeline.is_queued(event.data["clip_id"]),
                None if handed is None else handed.clip_id,
            )
        )

    hass.bus.async_listen(EVENT_DETECTION, _on_detection)
    alerts: list[Event] = []
    hass.bus.async_listen(EVENT_ALERT, alerts.append)
    await _add_camera(hass, entry, camera)

    # When a person walks in while the camera records the motion before it
    await wait_for(lambda: bool(detections), timeout=60, what="a live detection")

    # Then the detection is live, under the id the clip will have, while that
    # clip is still being recorded (not handed to the pipeline yet)
    data, queued, handed = detections[0]
    clip_id = data["clip_id"]
    assert data["live"] is True
    assert data["detected_classes"] == ["person"]
    assert not queued
    assert handed != clip_id
    # And the phone got the quick word, with the live frame as its snapshot
    assert _tags(phone) == [clip_id]
    assert "image" in phone[0].data["data"]
    snapshot = await entry.runtime_data.engine.snapshots.get(clip_id)
    assert snapshot is not None and snapshot.startswith(b"\xff\xd8")
    # And the person sensor is on
    person = next(
        s for s in hass.states.async_all("binary_sensor")
        if s.entity_id.startswith("binary_sensor.porch") and "person" in s.entity_id
    )  # fmt: skip
    assert person.state == "on"

    # When the clip is finished and processed
    await wait_for(
        lambda: any(a.data["clip_id"] == clip_id for a in alerts),
        timeout=60,
        what="the clip's alert",
    )
    await wait_for(lambda: pipeline.in_flight == 0, what="idle")

    # Then it is that clip, detected once: no second detection event for it
    assert [d[0]["clip_id"] for d in detections].count(clip_id) == 1
    # And the phone got two calls under the clip's tag: the word, then the
    # alert replacing it (with the clip's video); nothing cleared it
    mine = [call for call in phone if call.data["data"].get("tag") == clip_id]
    assert len(mine) == 2
    assert "video" in mine[1].data["data"]
    assert all(call.data["message"] != "clear_notification" for call in phone)
    state = await entry.runtime_data.engine.repository.get(clip_id)
    assert state is not None and state.filter_result is not None
    assert state.filter_result.live  # the live hits, reused: no second scan
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_false_start_clears_the_quick_word(
    hass: HomeAssistant, config_dir: Path, red_model: Path, camera: RtspServer
) -> None:
    """Live word, but the whole clip does not meet the rules: the word is taken back."""
    # Given a hub that wants a person in 10 frames (no summary model), and a
    # live camera that alerts on any detection that meets those rules
    phone = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await _hub(hass, red_model, min_hits=10)
    detections: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, detections.append)
    alerts: list[Event] = []
    hass.bus.async_listen(EVENT_ALERT, alerts.append)
    await _add_camera(hass, entry, camera, streams="blip_")

    # When a person shows up in the live stream (one frame is enough to tell)
    await wait_for(lambda: bool(detections), timeout=60, what="a live detection")
    clip_id = detections[0].data["clip_id"]
    assert detections[0].data["live"] is True
    assert _tags(phone) == [clip_id]

    # And is gone after 1.5 s: the clip shows them in fewer frames than wanted
    pipeline = entry.runtime_data.engine.pipeline
    await wait_for(
        lambda: (
            entry.runtime_data.clips.seen("porch") is not None
            and pipeline.in_flight == 0
        ),
        timeout=60,
        what="the clip processed",
    )

    # Then no alert went out, and the phone's word was cleared (same tag)
    assert not [a for a in alerts if a.data["clip_id"] == clip_id]
    mine = [call for call in phone if call.data["data"].get("tag") == clip_id]
    assert [call.data["message"] for call in mine][1:] == ["clear_notification"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_live_detection_off_keeps_detecting_finished_clips(
    hass: HomeAssistant, config_dir: Path, red_model: Path, camera: RtspServer
) -> None:
    """Live detection off: the detection comes with the finished clip, as before."""
    # Given a camera whose live detection is off
    phone = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await _hub(hass, red_model)
    clips = entry.runtime_data.clips
    detections: list[tuple[dict[str, Any], bool]] = []

    @callback
    def _on_detection(event: Event) -> None:
        handed = clips.seen("porch")
        detections.append((dict(event.data), handed is not None))

    hass.bus.async_listen(EVENT_DETECTION, _on_detection)
    alerts: list[Event] = []
    hass.bus.async_listen(EVENT_ALERT, alerts.append)
    await _add_camera(hass, entry, camera, live=False)

    # When a person walks in and the clip is finished
    await wait_for(lambda: bool(alerts), timeout=60, what="an alert")

    # Then the detection came only once the clip was handed over, not live
    data, handed = detections[0]
    assert handed
    assert data["live"] is False
    clip_id = alerts[0].data["clip_id"]
    assert data["clip_id"] == clip_id
    # And the phone got today's pair: the word at detection, the alert in place
    mine = [call for call in phone if call.data["data"].get("tag") == clip_id]
    assert len(mine) == 2
    assert "video" in mine[1].data["data"]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_spent_budget_skips_frames_and_the_clip_still_detects(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    camera: RtspServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No frame left in the budget: no live word, the clip's scan finds the person."""
    # Given a live camera, and a detector busy with other cameras' frames
    caplog.set_level(logging.DEBUG, "custom_components.homesec.engine.live")
    phone = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await _hub(hass, red_model)
    budget = entry.runtime_data.engine.live.budget
    for other in range(budget.settings.max_waiting):
        assert budget.take(f"other_{other}", time.time()) is None
    detections: list[Event] = []
    hass.bus.async_listen(EVENT_DETECTION, detections.append)
    alerts: list[Event] = []
    hass.bus.async_listen(EVENT_ALERT, alerts.append)
    await _add_camera(hass, entry, camera)

    # When a person walks in and the clip is finished
    await wait_for(lambda: bool(alerts), timeout=60, what="an alert")

    # Then live detection skipped its frames, saying why
    assert budget.skipped > 0
    assert "skips a frame: the detector is busy with other cameras" in caplog.text
    # And the clip's own scan found the person: one detection, not live
    clip_id = alerts[0].data["clip_id"]
    assert [(d.data["clip_id"], d.data["live"]) for d in detections] == [
        (clip_id, False)
    ]
    assert alerts[0].data["detected_classes"] == ["person"]
    mine = [call for call in phone if call.data["data"].get("tag") == clip_id]
    assert len(mine) == 2
    await hass.config_entries.async_unload(entry.entry_id)


class _StreamCamera(camera_component.Camera):
    """A Home Assistant camera whose stream is the RTSP test server's."""

    _attr_name = "Drive"
    _attr_unique_id = "drive_camera"
    _attr_supported_features = camera_component.CameraEntityFeature.STREAM

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url

    async def stream_source(self) -> str:
        return self._url


async def test_a_home_assistant_camera_with_a_stream_is_told_live(
    hass: HomeAssistant, config_dir: Path, red_model: Path, camera: RtspServer
) -> None:
    """An HA camera with live detection on: the word comes while it records."""
    # Given a Home Assistant camera with a stream, recorded by HomeSec on a
    # trigger, with live detection on
    assert await async_setup_component(hass, "camera", {})
    await hass.data[camera_component.DATA_COMPONENT].async_add_entities(
        [_StreamCamera(camera.url("main.mp4"))]
    )
    phone = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await _hub(hass, red_model)
    clips = entry.runtime_data.clips
    detections: list[tuple[dict[str, Any], bool]] = []

    @callback
    def _on_detection(event: Event) -> None:
        detections.append((dict(event.data), clips.seen("drive") is not None))

    hass.bus.async_listen(EVENT_DETECTION, _on_detection)
    alerts: list[Event] = []
    hass.bus.async_listen(EVENT_ALERT, alerts.append)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"name": "Drive", "source_type": "ha_camera", "notify_on_motion": "on"},
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"camera_entity": "camera.drive", "trigger_entity": "binary_sensor.gate",
         "clip_seconds": 2, "stop_delay_s": 1, "max_recording_s": 60,
         "live_detection": True},
    )  # fmt: skip
    await hass.async_block_till_done()

    # When the trigger turns on and a person walks in while it records
    hass.states.async_set("binary_sensor.gate", "on")
    await wait_for(lambda: bool(detections), timeout=60, what="a live detection")

    # Then the word is live, before the clip exists
    data, handed = detections[0]
    assert data["live"] is True
    assert not handed
    clip_id = data["clip_id"]
    assert _tags(phone) == [clip_id]

    # When the trigger turns off and the clip is processed
    hass.states.async_set("binary_sensor.gate", "off")
    await wait_for(lambda: bool(alerts), timeout=60, what="the alert")

    # Then the alert is that clip's, and replaced the word under its tag
    assert alerts[0].data["clip_id"] == clip_id
    mine = [call for call in phone if call.data["data"].get("tag") == clip_id]
    assert len(mine) == 2
    assert "video" in mine[1].data["data"]
    await hass.config_entries.async_unload(entry.entry_id)
