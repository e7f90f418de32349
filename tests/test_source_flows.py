"""Camera sources through Home Assistant: each source step, and clips from each."""

from __future__ import annotations

import io
from pathlib import Path
import socket
from typing import Any

from homeassistant.components import camera
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
from PIL import Image

from custom_components.homesec.adapters.ha_camera import HaCameraSource
from custom_components.homesec.const import SUBENTRY_CAMERA
from custom_components.homesec.engine.faults import Fault
from custom_components.homesec.engine.sources.ftp import FtpSource

from .doubles.rtsp_refusing import RefusingRtspCamera
from .doubles.rtsp_server import RtspServer
from .helpers import setup_hub, wait_for

SECRET = "cam-s3cret"


async def _camera_flow(
    hass: HomeAssistant, entry: ConfigEntry, common: dict[str, Any]
) -> dict[str, Any]:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], common
    )
    return dict(result)


async def _submit(hass: HomeAssistant, flow_id: str, data: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_configure(flow_id, data)
    await hass.async_block_till_done()
    return result


RTSP_DEFAULTS = {"rtsp_transport": "tcp", "pre_roll_s": 1, "stop_delay_s": 1,
                 "max_recording_s": 20}  # fmt: skip


async def test_rtsp_camera_is_probed_then_records_clips(
    hass: HomeAssistant,
    config_dir: Path,
    rtsp_server: RtspServer,
    audio_only_clip: Path,
    socket_enabled: None,
) -> None:
    """The RTSP step tests the stream; the camera then records into the pipeline."""
    # Given a hub and the RTSP step of a new camera
    entry = await setup_hub(hass)
    flow = await _camera_flow(hass, entry, {"name": "Porch", "source_type": "rtsp"})
    assert flow["step_id"] == "rtsp"
    closed = RtspServer(rtsp_server.folder)  # never started: nothing listens

    # When the user enters a non-stream URL, then an unreachable stream
    result = await _submit(hass, flow["flow_id"], {"url": "ftp://x"} | RTSP_DEFAULTS)
    assert result["errors"] == {"url": "invalid_url"}
    closed.port = 1
    result = await _submit(
        hass, flow["flow_id"], {"url": closed.url("camera_loop.mp4")} | RTSP_DEFAULTS
    )
    assert result["errors"] == {"url": "cannot_connect"}
    result = await _submit(
        hass, flow["flow_id"], {"url": rtsp_server.url("missing.mp4")} | RTSP_DEFAULTS
    )
    assert result["errors"] == {"url": "stream_not_found"}
    result = await _submit(
        hass,
        flow["flow_id"],
        {"url": rtsp_server.url(audio_only_clip.name)} | RTSP_DEFAULTS,
    )
    assert result["errors"] == {"url": "no_video"}
    refusing = RefusingRtspCamera()
    await refusing.start()
    result = await _submit(
        hass, flow["flow_id"], {"url": refusing.url("admin:wrong")} | RTSP_DEFAULTS
    )
    await refusing.close()
    assert result["errors"] == {"base": "invalid_auth"}

    # And then the camera's URL with its credentials typed into it
    url = rtsp_server.url("camera_loop.mp4", credentials=f"admin:{SECRET}")
    result = await _submit(hass, flow["flow_id"], {"url": url} | RTSP_DEFAULTS)

    # Then the camera is saved with the credentials outside the URL
    assert result["type"] is FlowResultType.CREATE_ENTRY
    subentry = next(iter(entry.subentries.values()))
    assert SECRET not in subentry.data["url"]
    assert subentry.data["username"] == "admin"
    assert subentry.data["password"] == SECRET

    # And its motion makes a clip that goes through the pipeline
    await wait_for(
        lambda: (
            hass.states.get("sensor.porch_last_clip") is not None
            and hass.states.get("sensor.porch_last_clip").state not in ("unknown", "")
        ),
        timeout=40,
        what="a recorded clip",
    )
    assert hass.states.get("binary_sensor.porch_motion").state == "on"

    # When the camera is reconfigured, the password is not shown and is kept
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    result = await _submit(hass, result["flow_id"], {"name": "Porch"})
    assert result["step_id"] == "reconfigure_rtsp"  # says empty keeps it
    shown = {str(key): key.description for key in result["data_schema"].schema}
    assert (shown["password"] or {}).get("suggested_value") is None
    result = await _submit(
        hass, result["flow_id"], {"url": subentry.data["url"]} | RTSP_DEFAULTS
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry.subentry_id].data["password"] == SECRET
    await hass.config_entries.async_unload(entry.entry_id)


async def test_ftp_camera_step_errors_and_upload(
    hass: HomeAssistant, config_dir: Path, socket_enabled: None, motion_clip: Path
) -> None:
    """The FTP step checks credentials, passive ports and the port."""
    # Given a hub and the FTP step of a new camera
    entry = await setup_hub(hass)
    flow = await _camera_flow(hass, entry, {"name": "Gate", "source_type": "ftp"})
    assert flow["step_id"] == "ftp"
    with socket.socket() as probe:  # a free port for the camera's server
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    base = {"port": free_port, "allow_anonymous": False, "max_upload_mb": 50}
    cases = [
        ({}, {"base": "credentials_required"}),
        ({"username": "gate", "password": "pw", "passive_ports": "9-3"},
         {"passive_ports": "invalid_port_range"}),
    ]  # fmt: skip
    for change, errors in cases:
        # When the user leaves out something needed
        result = await _submit(hass, flow["flow_id"], base | change)
        # Then the form says what
        assert result["errors"] == errors

    # When the port is taken by another program
    with socket.socket() as other:
        other.bind(("0.0.0.0", 0))
        other.listen()
        taken = base | {"port": other.getsockname()[1]}
        result = await _submit(
            hass, flow["flow_id"], taken | {"username": "gate", "password": "pw"}
        )
    # Then the form says so
    assert result["errors"] == {"port": "port_in_use"}

    # When the user enters an account
    result = await _submit(
        hass, flow["flow_id"], base | {"username": "gate", "password": "pw"}
    )

    # Then the camera's FTP server runs and takes uploads into the pipeline
    assert result["type"] is FlowResultType.CREATE_ENTRY
    source = entry.runtime_data.runtime.sources["gate"]
    assert isinstance(source, FtpSource)
    port = source.port
    assert port == free_port

    def upload() -> None:
        import ftplib  # noqa: PLC0415

        client = ftplib.FTP()
        client.connect("127.0.0.1", port, timeout=10)
        client.login("gate", "pw")
        with motion_clip.open("rb") as file:
            client.storbinary("STOR clip.mp4", file)
        client.quit()

    await hass.async_add_executor_job(upload)
    await wait_for(
        lambda: hass.states.get("sensor.gate_clips_today").state == "1",
        what="the uploaded clip",
    )

    # When a second FTP camera asks for the same port
    flow = await _camera_flow(hass, entry, {"name": "Yard", "source_type": "ftp"})
    result = await _submit(
        hass, flow["flow_id"], base | {"username": "y", "password": "p"}
    )
    # Then it is refused
    assert result["errors"] == {"port": "port_in_use"}
    await hass.config_entries.async_unload(entry.entry_id)


class _StillCamera(camera.Camera):
    """A camera without a stream: only snapshots."""

    _attr_name = "Shed"
    _attr_unique_id = "shed_camera"

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes:
        shade = (self.shots * 40) % 255
        self.shots += 1
        buffer = io.BytesIO()
        Image.new("RGB", (320, 180), (shade, 60, 60)).save(buffer, "JPEG")
        return buffer.getvalue()

    shots = 0


class _StreamCamera(camera.Camera):
    """A camera whose stream is the RTSP test server."""

    _attr_name = "Drive"
    _attr_unique_id = "drive_camera"
    _attr_supported_features = camera.CameraEntityFeature.STREAM

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url

    async def stream_source(self) -> str:
        return self._url


async def test_ha_cameras_record_on_trigger_from_stream_or_snapshots(
    hass: HomeAssistant, config_dir: Path, rtsp_server: RtspServer
) -> None:
    """A trigger entity turning on records the camera's stream or its snapshots."""
    # Given two Home Assistant cameras: one with a stream, one with snapshots only
    assert await async_setup_component(hass, "camera", {})
    still = _StillCamera()
    await hass.data[camera.DATA_COMPONENT].async_add_entities(
        [still, _StreamCamera(rtsp_server.url("camera_loop.mp4"))]
    )
    entry = await setup_hub(hass)
    for name, entity, trigger in (
        ("Shed", "camera.shed", "binary_sensor.shed_door"),
        ("Drive", "camera.drive", "binary_sensor.drive_motion"),
    ):
        flow = await _camera_flow(
            hass, entry, {"name": name, "source_type": "ha_camera"}
        )
        result = await _submit(
            hass, flow["flow_id"],
            {"camera_entity": "camera.missing", "clip_seconds": 2,
             "stop_delay_s": 1, "max_recording_s": 10},
        )  # fmt: skip
        assert result["errors"] == {"camera_entity": "camera_not_found"}
        result = await _submit(
            hass, flow["flow_id"],
            {"camera_entity": entity, "trigger_entity": trigger, "clip_seconds": 2,
             "stop_delay_s": 1, "max_recording_s": 10},
        )  # fmt: skip
        assert result["type"] is FlowResultType.CREATE_ENTRY

    # When both triggers turn on, then off again
    hass.states.async_set("binary_sensor.shed_door", "on")
    hass.states.async_set("binary_sensor.drive_motion", "on")
    await hass.async_block_till_done()
    hass.states.async_set("binary_sensor.shed_door", "off")
    hass.states.async_set("binary_sensor.drive_motion", "off")

    # Then each camera made one clip that went through the pipeline
    for camera_id in ("shed", "drive"):
        await wait_for(
            lambda cid=camera_id: (
                hass.states.get(f"sensor.{cid}_clips_today").state == "1"
            ),
            timeout=40,
            what=f"a clip from {camera_id}",
        )

    # When a recording is asked for without a trigger (what record_clip calls)
    shed = entry.runtime_data.runtime.sources["shed"]
    assert isinstance(shed, HaCameraSource)
    shed.record(2)

    # Then that camera makes one more clip
    await wait_for(
        lambda: hass.states.get("sensor.shed_clips_today").state == "2",
        timeout=40,
        what="the requested recording",
    )
    clips = sorted(p.suffix for p in (config_dir / "homesec" / "spool").rglob("*.*"))
    assert ".mkv" in clips  # snapshots as MJPEG
    assert ".mp4" in clips  # the stream, copied

    # And HomeSec's cameras show the live pictures and stream of the sources
    registry = er.async_get(hass)
    pictures = {
        registry.async_get(entity_id).config_subentry_id: entity_id
        for entity_id in hass.states.async_entity_ids("camera")
        if registry.async_get(entity_id).platform == "homesec"
    }
    by_camera = {s.data["camera_id"]: s.subentry_id for s in entry.subentries.values()}
    shed_picture = pictures[by_camera["shed"]]
    drive_picture = pictures[by_camera["drive"]]
    shots = still.shots
    image = await camera.async_get_image(hass, shed_picture)
    assert image.content_type == "image/jpeg"
    assert still.shots == shots + 1
    assert await camera.async_get_stream_source(hass, drive_picture) == (
        rtsp_server.url("camera_loop.mp4")
    )
    await hass.config_entries.async_unload(entry.entry_id)


class _FlakyCamera(camera.Camera):
    """A camera without a stream whose snapshots fail while ``broken``."""

    _attr_name = "Flaky"
    _attr_unique_id = "flaky_camera"
    broken = True

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        if self.broken:
            return None
        buffer = io.BytesIO()
        Image.new("RGB", (160, 90), (20, 90, 20)).save(buffer, "JPEG")
        return buffer.getvalue()


async def test_failing_ha_cameras_turn_unavailable_and_recover(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A camera giving no snapshot or no stream marks its entities unavailable."""
    # Given a snapshot camera that fails and a stream camera nothing answers
    assert await async_setup_component(hass, "camera", {})
    flaky = _FlakyCamera()
    await hass.data[camera.DATA_COMPONENT].async_add_entities(
        [flaky, _StreamCamera("rtsp://127.0.0.1:1/nothing")]
    )
    entry = await setup_hub(hass)
    for name, entity in (("Yard", "camera.flaky"), ("Lane", "camera.drive")):
        flow = await _camera_flow(
            hass, entry, {"name": name, "source_type": "ha_camera"}
        )
        await _submit(
            hass, flow["flow_id"],
            {"camera_entity": entity, "clip_seconds": 1, "stop_delay_s": 1,
             "max_recording_s": 5},
        )  # fmt: skip
    hub = entry.runtime_data

    # When both are asked to record
    for camera_id in ("yard", "lane"):
        hub.clips.record_now(camera_id)
    await wait_for(
        lambda: (
            not hub.runtime.sources["yard"].healthy
            and not hub.runtime.sources["lane"].healthy
        ),
        timeout=30,
        what="both failures",
    )
    hub.health.check(dt_util.utcnow())
    await hass.async_block_till_done()

    # Then both say why, and their entities are unavailable
    assert "gave no snapshot" in (hub.runtime.sources["yard"].problem or "")
    assert "Connection refused" in (hub.runtime.sources["lane"].problem or "")
    assert hub.runtime.sources["yard"].fault is Fault.CAMERA_UNAVAILABLE
    assert hub.runtime.sources["lane"].fault is Fault.CONNECTION_REFUSED
    assert hass.states.get("sensor.yard_clips_today").state == "unavailable"
    assert hass.states.get("sensor.lane_clips_today").state == "unavailable"

    # When the snapshot camera works again and records
    flaky.broken = False
    hub.clips.record_now("yard")
    await wait_for(lambda: hub.runtime.sources["yard"].healthy, what="a good recording")
    hub.health.check(dt_util.utcnow())
    await hass.async_block_till_done()

    # Then its entities are back and its clip goes through the pipeline
    await wait_for(
        lambda: hass.states.get("sensor.yard_clips_today").state == "1",
        timeout=30,
        what="the clip",
    )
    await hass.config_entries.async_unload(entry.entry_id)
