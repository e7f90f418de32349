"""Per-camera detection settings, zones and masks, end to end in Home Assistant."""

from __future__ import annotations

import io
import json
from pathlib import Path
import re
import shutil
from typing import Any

from homeassistant.components import mqtt
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.setup import async_setup_component
from PIL import Image
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec import device_trigger
from custom_components.homesec.camera_settings import CameraSettings
from custom_components.homesec.const import (
    DOMAIN,
    EVENT_ALERT,
    EVENT_DETECTION,
    SUBENTRY_CAMERA,
    camera_signal,
)
from custom_components.homesec.engine.detect.zones import parse_masks
from custom_components.homesec.engine.models import ClipFinished, LifecycleEvent
from custom_components.homesec.engine.policy import PolicySettings
from custom_components.homesec.engine.sources.rtsp import RtspSource
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.source_kinds import SOURCE_KINDS

from .helpers import set_options, setup_onnx_hub, wait_for
from .servers import Mosquitto

# The red box of ``red_clip`` stands at x 0.27, y 0.72 (its bottom centre).
LEFT = "left: 0,0.5 0.5,0.5 0.5,1 0,1"
RIGHT = "right: 0.5,0.5 1,0.5 1,1 0.5,1"
LEFT_MASK = "0,0.5 0.5,0.5 0.5,1 0,1"
BLUEPRINT = (
    Path(__file__).parents[1]
    / "blueprints"
    / "automation"
    / "homesec"
    / "notify_on_alert.yaml"
)
PREVIEW = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


async def start_tuned_camera(
    hass: HomeAssistant, entry: ConfigEntry, name: str, detection: dict[str, Any]
) -> dict[str, Any]:
    """Open the camera form, ask to tune it, fill its detection step."""
    flow = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    common = {"name": name, "source_type": "folder", "notify_on_motion": "on"}
    result = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], common | {"tune_detection": True}
    )
    assert result["step_id"] == "detection"
    result = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], detection
    )
    assert result["step_id"] == "zones"
    return dict(result)


async def add_tuned_camera(
    hass: HomeAssistant,
    entry: ConfigEntry,
    folder: Path,
    name: str,
    *,
    detection: dict[str, Any] | None = None,
    areas: dict[str, Any] | None = None,
) -> None:
    """Add a folder camera with its own detection settings, zones and masks."""
    result = await start_tuned_camera(hass, entry, name, detection or {})
    given = {"require_zone": False} | (areas or {})
    for _ in range(2):  # changed areas are drawn first, then accepted
        if result["step_id"] != "zones":
            break
        result = dict(
            await hass.config_entries.subentries.async_configure(
                result["flow_id"], given
            )
        )
    assert result["step_id"] == "folder"
    folder.mkdir()
    result = dict(
        await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"watch_folder": str(folder), "settle_seconds": 1}
        )
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def settle(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Wait until the pipeline is idle and Home Assistant has nothing left to do."""
    pipeline = entry.runtime_data.engine.pipeline
    await wait_for(lambda: pipeline.in_flight == 0, what="the pipeline idle")
    await hass.async_block_till_done()


def finished_clips(
    hass: HomeAssistant, entry: ConfigEntry, *camera_ids: str
) -> list[str]:
    """The cameras of the clips finished from now on (filled as they finish)."""
    finished: list[str] = []

    def keep(event: LifecycleEvent) -> None:
        if isinstance(event, ClipFinished):
            finished.append(event.clip.camera_name)

    for camera_id in camera_ids:
        entry.async_on_unload(
            async_dispatcher_connect(
                hass, camera_signal(entry.entry_id, camera_id), keep
            )
        )
    return finished


def suggested(form: dict[str, Any]) -> dict[str, Any]:
    """The values a form shows in its fields."""
    return {
        str(key): key.description["suggested_value"]
        for key in form["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def device_of(hass: HomeAssistant, entry: ConfigEntry, name: str) -> dr.DeviceEntry:
    """The device of a camera by its name."""
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return next(d for d in devices if d.name == name)


async def test_zone_required_camera_alerts_only_for_objects_in_its_zone(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    mosquitto: Mosquitto,
    socket_enabled: None,
) -> None:
    """Zones name where the person stood; alerts, events, MQTT, sensors say so."""
    # Given Home Assistant's MQTT integration on a broker
    (config_dir / "configuration.yaml").write_text("")
    broker = MockConfigEntry(
        domain="mqtt", data={"broker": "127.0.0.1", "port": mosquitto.port}
    )
    broker.add_to_hass(hass)
    assert await hass.config_entries.async_setup(broker.entry_id)
    assert await mqtt.async_wait_for_mqtt_client(hass)
    received: list[mqtt.ReceiveMessage] = []
    await mqtt.async_subscribe(hass, "homecam/#", received.append, qos=1)  # type: ignore[arg-type]

    # And a person-detecting hub with two cameras that alert only in a zone:
    # one whose zone "left" holds where the person stands, one with "right" only
    entry = await setup_onnx_hub(hass, red_model)
    await add_tuned_camera(
        hass, entry, config_dir / "inside", "Inside",
        areas={"zones": f"{LEFT}\n{RIGHT}", "require_zone": True},
    )  # fmt: skip
    await add_tuned_camera(
        hass, entry, config_dir / "outside", "Outside",
        areas={"zones": RIGHT, "require_zone": True},
    )  # fmt: skip

    # And automations on a person in zone left and in zone right of "Inside"
    calls = async_mock_service(hass, "test", "automation")
    inside = device_of(hass, entry, "Inside")

    def automation(zone: str) -> dict[str, Any]:
        trigger = {"trigger": "device", "domain": DOMAIN, "device_id": inside.id,
                   "type": "person_detected", "zone": zone}  # fmt: skip
        return {
            "alias": zone,
            "triggers": [trigger],
            "actions": [{"action": "test.automation", "data": {"zone": zone}}],
        }

    assert await async_setup_component(
        hass, "automation", {"automation": [automation("left"), automation("right")]}
    )
    detections = async_capture_events(hass, EVENT_DETECTION)
    alerts = async_capture_events(hass, EVENT_ALERT)

    # When the same clip of a person arrives at both cameras
    (config_dir / "inside" / "clip.mp4").write_bytes(red_clip.read_bytes())
    (config_dir / "outside" / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(detections) == 2, what="both detections")
    await wait_for(lambda: bool(alerts) and bool(received), what="the alert")
    await settle(hass, entry)

    # Then both saw the person, with the zones it stood in
    zones = {e.data["camera_name"]: e.data["zones"] for e in detections}
    assert zones == {"inside": ["left"], "outside": []}
    # And only the camera whose zone held the person alerted, saying where
    assert [(e.data["camera_name"], e.data["zones"]) for e in alerts] == [
        ("inside", ["left"])
    ]
    payload = json.loads(received[0].payload)
    assert (payload["camera_name"], payload["zones"]) == ("inside", ["left"])
    assert len(received) == 1
    # And the camera's person sensor tells the zone
    registry = er.async_get(hass)
    person = next(
        e.entity_id
        for e in er.async_entries_for_device(registry, inside.id)
        if e.unique_id.endswith("_person")
    )
    state = hass.states.get(person)
    assert state is not None
    assert state.attributes["zones"] == ["left"]
    # And only the device trigger on zone left fired
    assert [call.data["zone"] for call in calls] == ["left"]


async def test_device_trigger_offers_and_checks_the_cameras_zones(
    hass: HomeAssistant, config_dir: Path, red_model: Path
) -> None:
    """The trigger's zone field lists the camera's zones; others are refused."""
    # Given a camera with the zones left and right
    entry = await setup_onnx_hub(hass, red_model)
    await add_tuned_camera(
        hass, entry, config_dir / "cam", "Yard", areas={"zones": f"{LEFT}\n{RIGHT}"}
    )
    device = device_of(hass, entry, "Yard")
    config = {"platform": "device", "domain": DOMAIN, "device_id": device.id,
              "type": "person_detected"}  # fmt: skip

    # When the trigger's fields are asked for, and zones are validated
    extra = await device_trigger.async_get_trigger_capabilities(hass, config)
    valid = await device_trigger.async_validate_trigger_config(
        hass, config | {"zone": "right"}
    )

    # Then the zone field offers the camera's zones, and an unknown one fails
    assert extra["extra_fields"]({"zone": "left"}) == {"zone": "left"}
    assert valid["zone"] == "right"
    try:
        await device_trigger.async_validate_trigger_config(
            hass, config | {"zone": "porch"}
        )
    except device_trigger.InvalidDeviceAutomationConfig as err:
        assert "porch" in str(err)
    else:
        raise AssertionError("an unknown zone was accepted")


async def test_an_object_inside_a_mask_is_ignored(
    hass: HomeAssistant, config_dir: Path, red_model: Path, red_clip: Path
) -> None:
    """A camera masking where the person stands detects nothing; another does."""
    # Given a person-detecting hub with a masked and an unmasked camera
    entry = await setup_onnx_hub(hass, red_model)
    await add_tuned_camera(
        hass, entry, config_dir / "masked", "Masked", areas={"masks": LEFT_MASK}
    )
    await add_tuned_camera(hass, entry, config_dir / "plain", "Plain")
    detections = async_capture_events(hass, EVENT_DETECTION)
    finished = finished_clips(hass, entry, "masked", "plain")

    # When the clip of a person arrives at both
    for folder in ("masked", "plain"):
        (config_dir / folder / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(finished) == 2, what="both clips finished")
    await settle(hass, entry)

    # Then only the unmasked camera detected the person
    assert [e.data["camera_name"] for e in detections] == ["plain"]


async def test_camera_settings_override_the_hub_and_empty_ones_follow_it(
    hass: HomeAssistant, config_dir: Path, red_model: Path, red_clip: Path
) -> None:
    """A camera's own confidence wins; one left empty follows the hub's changes."""
    # Given a hub at confidence 0.5 (the red person scores 0.9), a camera of
    # its own at 0.95 and one following the hub
    entry = await setup_onnx_hub(hass, red_model)
    await add_tuned_camera(
        hass, entry, config_dir / "strict", "Strict",
        detection={"min_confidence": 0.95},
    )  # fmt: skip
    await add_tuned_camera(hass, entry, config_dir / "hub", "Follower")
    detections = async_capture_events(hass, EVENT_DETECTION)

    async def clip_to_both(name: str) -> list[str]:
        detections.clear()
        finished = finished_clips(hass, entry, "strict", "follower")
        for folder in ("strict", "hub"):
            (config_dir / folder / name).write_bytes(red_clip.read_bytes())
        await wait_for(lambda: len(finished) == 2, what="both clips finished")
        await settle(hass, entry)
        return sorted(e.data["camera_name"] for e in detections)

    # When a clip of a person arrives at both
    found = await clip_to_both("one.mp4")

    # Then only the camera following the hub detected it
    assert found == ["follower"]

    # When the hub's confidence is raised to 0.95 and the clip comes again
    await set_options(hass, entry, min_confidence=0.95)
    entry = hass.config_entries.async_get_entry(entry.entry_id) or entry
    rules = entry.runtime_data.engine.pipeline.rules_for("follower")
    found = await clip_to_both("two.mp4")

    # Then the following camera follows the hub: nobody detects it now
    assert found == []
    assert rules is not None
    assert rules.min_confidence == 0.95


async def test_zone_form_draws_the_areas_and_explains_bad_text(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The zones step shows a picture of what was typed; bad text is an error."""
    # Given the zones step of a new camera
    entry = await setup_onnx_hub(hass, red_model)
    result = await start_tuned_camera(hass, entry, "Porch", {})
    client = await hass_client_no_auth()

    # When bad texts are submitted
    bad = {
        "zones": "driveway: 0.1,0.5 1.4,0.5 0.4,0.9",
        "masks": "0.1,0.1 0.2",
    }
    errors = {}
    for field, text in bad.items():
        answer = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {field: text, "require_zone": False}
        )
        errors[field] = (answer["errors"], answer["description_placeholders"]["line"])
    needs_zone = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"require_zone": True}
    )

    # Then each is a form error on its field, with its line
    assert errors == {
        "zones": ({"zones": "polygon_out_of_frame"}, "1"),
        "masks": ({"masks": "polygon_not_points"}, "1"),
    }
    assert needs_zone["errors"] == {"require_zone": "require_zone_without_zones"}

    # When a zone on the right half and a mask on the top left are submitted
    areas = {"zones": "Drive Way: 0.5,0.5 0.98,0.5 0.98,0.98 0.5,0.98",
             "masks": "0,0 0.4,0 0.4,0.4 0,0.4", "require_zone": True}  # fmt: skip
    drawn = await hass.config_entries.subentries.async_configure(
        result["flow_id"], areas
    )

    # Then the form comes back with a picture of them (a grey frame: no snapshot)
    assert drawn["step_id"] == "zones"
    assert drawn["errors"] == {}
    url = PREVIEW.search(drawn["description_placeholders"]["preview"])
    assert url is not None
    response = await client.get(url.group(1))
    assert response.status == 200
    assert response.content_type == "image/png"
    image = Image.open(io.BytesIO(await response.read())).convert("RGB")
    width, height = image.size
    assert image.getpixel((width * 9 // 10, height // 10)) == (128, 128, 128)
    masked = image.getpixel((width // 5, height // 5))
    assert max(masked) < 80  # darkened
    edge = image.getpixel((width * 3 // 4, round(0.5 * (height - 1))))
    assert edge[0] > 200 and edge[1] > 180 and edge[2] < 60  # yellow outline
    # And the link does not work without its signature
    unsigned = await client.get(url.group(1).split("?")[0])
    assert unsigned.status == 401

    # When the same areas are submitted again, and the folder step filled
    result = dict(
        await hass.config_entries.subentries.async_configure(result["flow_id"], areas)
    )
    assert result["step_id"] == "folder"
    (config_dir / "porch").mkdir()
    await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"watch_folder": str(config_dir / "porch"), "settle_seconds": 1},
    )
    await hass.async_block_till_done()

    # Then the camera keeps its zone (named the one way) and its mask
    camera = entry.runtime_data.cameras["porch"]
    assert [zone.name for zone in camera.zones] == ["drive_way"]
    assert camera.masks[0].points[1] == (0.4, 0.0)
    assert camera.require_zone


async def test_a_camera_with_targets_of_its_own_notifies_only_them(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """A camera's own notify targets replace the hub's; others keep the hub's."""
    # Given a hub notifying a phone, a camera notifying a tablet instead, and
    # one following the hub
    phone = async_mock_service(hass, "notify", "mobile_app_phone")
    tablet = async_mock_service(hass, "notify", "mobile_app_tablet")
    entry = await setup_onnx_hub(hass, red_model)
    await set_options(hass, entry, notify_services=["notify.mobile_app_phone"])
    await add_tuned_camera(
        hass, entry, config_dir / "garage", "Garage",
        detection={"notify_services": ["notify.mobile_app_tablet"]},
    )  # fmt: skip
    await add_tuned_camera(hass, entry, config_dir / "front", "Front")
    finished = finished_clips(hass, entry, "garage", "front")

    # When a clip of a person arrives at each
    for folder in ("garage", "front"):
        (config_dir / folder / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(finished) == 2, what="both clips finished")
    await settle(hass, entry)

    # Then the tablet heard only of the garage, the phone only of the front
    def cameras(calls: list[Any]) -> set[str]:
        return {str(call.data["data"]["tag"]).split("_")[0] for call in calls}

    assert cameras(tablet) == {"garage"}
    assert cameras(phone) == {"front"}


def test_a_cameras_activities_replace_the_hubs_and_empty_follows() -> None:
    """Alert activities of a camera win over the hub's; none given: the hub's."""
    # Given the hub's policy alerting on deliveries
    hub = PolicySettings(notify_on_activity_types=frozenset({"delivery"}))

    def camera(**own: Any) -> CameraSettings:
        return CameraSettings(
            subentry_id="s", camera_id="c", title="C", source_type="folder", **own
        )

    # When a camera with its own activities, and one without, apply theirs
    own = camera(notify_on_activity_types=("loitering",)).policy_overrides()
    none = camera().policy_overrides()

    # Then the first has its own, the second the hub's
    assert own.apply(hub).notify_on_activity_types == {"loitering"}
    assert none.apply(hub).notify_on_activity_types == {"delivery"}


async def test_reconfigure_changes_or_keeps_the_cameras_own_settings(
    hass: HomeAssistant, config_dir: Path, red_model: Path
) -> None:
    """Reconfiguring without tuning keeps them; tuning shows and replaces them."""
    # Given a camera with its own confidence, a zone required and a mask
    entry = await setup_onnx_hub(hass, red_model)
    await add_tuned_camera(
        hass, entry, config_dir / "yard", "Yard",
        detection={"min_confidence": 0.8},
        areas={"zones": LEFT, "masks": LEFT_MASK, "require_zone": True},
    )  # fmt: skip
    subentry = next(iter(entry.subentries.values()))

    async def reconfigure(common: dict[str, Any]) -> dict[str, Any]:
        flow = await hass.config_entries.subentries.async_init(
            (entry.entry_id, SUBENTRY_CAMERA),
            context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
        )
        return dict(
            await hass.config_entries.subentries.async_configure(
                flow["flow_id"], {"name": "Yard"} | common
            )
        )

    async def finish(result: dict[str, Any]) -> None:
        assert result["step_id"] == "folder"
        await hass.config_entries.subentries.async_configure(
            result["flow_id"],
            {"watch_folder": str(config_dir / "yard"), "settle_seconds": 1},
        )
        await hass.async_block_till_done()

    # When it is reconfigured without tuning
    await finish(await reconfigure({}))

    # Then its own settings are kept
    camera = entry.runtime_data.cameras["yard"]
    assert (camera.min_confidence, camera.require_zone) == (0.8, True)
    assert [zone.name for zone in camera.zones] == ["left"]
    assert len(camera.masks) == 1

    # When it is tuned again: confidence emptied, zone kept, mask removed
    result = await reconfigure({"tune_detection": True})
    detection = suggested(result)
    result = dict(
        await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    )
    areas = suggested(result)
    for _ in range(2):
        if result["step_id"] != "zones":
            break
        result = dict(
            await hass.config_entries.subentries.async_configure(
                result["flow_id"], {"zones": LEFT, "require_zone": True}
            )
        )
    await finish(result)

    # Then the form showed its confidence, and it now follows the hub unmasked
    assert detection["min_confidence"] == 0.8
    assert areas == {"zones": LEFT, "masks": LEFT_MASK, "require_zone": True}
    camera = entry.runtime_data.cameras["yard"]
    assert camera.min_confidence is None
    assert camera.masks == ()
    assert [zone.name for zone in camera.zones] == ["left"]
    rules = entry.runtime_data.engine.pipeline.rules_for("yard")
    assert rules is not None
    assert (rules.min_confidence, rules.masks) == (0.5, ())


async def test_blueprint_notifies_only_for_alerts_in_its_zone(
    hass: HomeAssistant, config_dir: Path, red_model: Path, red_clip: Path
) -> None:
    """The blueprint's zone input limits it to alerts with an object there."""
    # Given a camera with zones left and right, and the blueprint installed
    entry = await setup_onnx_hub(hass, red_model)
    await add_tuned_camera(
        hass, entry, config_dir / "yard", "Yard", areas={"zones": f"{LEFT}\n{RIGHT}"}
    )
    device = device_of(hass, entry, "Yard")
    target = config_dir / "blueprints" / "automation" / "homesec"
    target.mkdir(parents=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)

    # And one automation from it per zone, each notifying its own phone
    phones = {
        zone: async_mock_service(hass, "notify", f"mobile_app_{zone}")
        for zone in ("left", "right")
    }

    def from_blueprint(zone: str) -> dict[str, Any]:
        inputs = {"camera": device.id, "zone": zone,
                  "notify_action": f"notify.mobile_app_{zone}"}  # fmt: skip
        return {
            "alias": f"Yard {zone}",
            "use_blueprint": {"path": f"homesec/{BLUEPRINT.name}", "input": inputs},
        }

    assert await async_setup_component(
        hass,
        "automation",
        {"automation": [from_blueprint("left"), from_blueprint("right")]},
    )
    finished = finished_clips(hass, entry, "yard")

    # When a person standing in zone left raises an alert
    (config_dir / "yard" / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: bool(finished), what="the clip finished")
    await settle(hass, entry)

    # Then only the automation on zone left notified
    assert len(phones["left"]) == 1
    assert phones["right"] == []


async def test_zone_picture_shows_the_cameras_latest_snapshot(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Once a camera has a snapshot, the zones are drawn over it."""
    # Given a camera whose clip of a person left a snapshot
    entry = await setup_onnx_hub(hass, red_model)
    await add_tuned_camera(hass, entry, config_dir / "yard", "Yard")
    finished = finished_clips(hass, entry, "yard")
    (config_dir / "yard" / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: bool(finished), what="the clip finished")
    await settle(hass, entry)
    subentry = next(iter(entry.subentries.values()))

    # When its zones step is opened again
    flow = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    result = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], {"name": "Yard", "tune_detection": True}
    )
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    url = PREVIEW.search(result["description_placeholders"]["preview"])
    assert url is not None
    response = await (await hass_client_no_auth()).get(url.group(1))
    image = Image.open(io.BytesIO(await response.read())).convert("RGB")

    # Then the picture is the snapshot: the red person where it stood
    width, height = image.size
    red, green, blue = image.getpixel((round(width * 0.27), round(height * 0.5)))
    assert red > 150 and green < 80 and blue < 80


def test_an_rtsp_camera_gives_its_masks_to_its_motion_gate(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """The camera's masks reach the settings of its RTSP source."""
    # Given an RTSP camera with a mask
    camera = CameraSettings(
        subentry_id="s", camera_id="gate", title="Gate", source_type="rtsp",
        masks=parse_masks("0,0 1,0 1,0.2"),
        data={"url": "rtsp://192.0.2.1/stream"},
    )  # fmt: skip

    # When its source is built
    source = SOURCE_KINDS["rtsp"].build(hass, camera, Spool(tmp_path / "spool"))

    # Then the source's settings hold the mask
    assert isinstance(source, RtspSource)
    assert source._settings.masks == camera.masks
