"""Models chosen in Home Assistant: picked from the config dir or uploaded,
described before saving, and custom models' classes through to the events."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec import device_trigger
from custom_components.homesec.const import DOMAIN, EVENT_DETECTION
from custom_components.homesec.detector_kinds import DETECTOR_KINDS
from custom_components.homesec.engine.detect.coco import COCO80
from custom_components.homesec.engine.detect.motion import MotionDetector
from custom_components.homesec.engine.detect.onnx import OnnxDetector

from .helpers import add_camera, finish_hub_flow, start_hub_flow, upload, wait_for
from .ncnn_export import export_entries, zipped
from .red_person_model import build as build_red_person_model

RULES = {"min_confidence": 0.5, "min_hits": 1, "min_box_h_ratio": 0.0}


def options_of(result: Any, field: str) -> list[str]:
    """The options a form's select field offers."""
    for key, selector in result["data_schema"].schema.items():
        if str(key) == field:
            return list(selector.config["options"])
    raise AssertionError(f"no field {field}")


async def configure(hass: HomeAssistant, result: Any, data: dict[str, Any]) -> Any:
    """Submit one step of the hub flow."""
    return await hass.config_entries.flow.async_configure(result["flow_id"], data)


async def onnx_step(hass: HomeAssistant) -> Any:
    """The hub flow at the onnx model step."""
    result = await configure(hass, await start_hub_flow(hass), {"detector": "onnx"})
    assert result["step_id"] == "onnx"
    return result


@pytest.fixture
def package_model(tmp_path: Path) -> Path:
    """The red-person graph as a custom model: what it sees red is a package."""
    return build_red_person_model(tmp_path / "package.onnx", names={0: "package"})


def _ncnn_for_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the onnx entry accept NCNN exports, as an NCNN backend would."""
    onnx = DETECTOR_KINDS["onnx"]
    monkeypatch.setitem(DETECTOR_KINDS, "onnx", replace(onnx, formats=("onnx", "ncnn")))


async def test_a_model_under_the_config_dir_is_picked_and_described(
    hass: HomeAssistant, config_dir: Path, red_model: Path
) -> None:
    """The picker lists the models found; the chosen one is described, then saved."""
    # Given models in HomeSec's models folder and at the config dir's top
    models = config_dir / "homesec" / "models"
    models.mkdir(parents=True)
    (models / "red.onnx").write_bytes(red_model.read_bytes())
    (config_dir / "top.onnx").write_bytes(red_model.read_bytes())

    # When the onnx step is shown and the first model picked
    result = await onnx_step(hass)
    offered = options_of(result, "model_path")
    described = await configure(hass, result, {"model_path": offered[0]})

    # Then both were offered, and the model's classes and size are shown
    assert offered == ["homesec/models/red.onnx", "top.onnx"]
    assert described["step_id"] == "model"
    placeholders = described["description_placeholders"]
    assert placeholders["model"] == "red.onnx"
    assert placeholders["size"] == "160x160"
    assert placeholders["count"] == "80"
    assert placeholders["classes"].startswith("person, bicycle, car")
    assert options_of(described, "detect_classes")[:3] == [
        "person",
        "vehicle",
        "animal",
    ]

    # When the rules are submitted and the flow finished
    result = await configure(hass, described, {"detect_classes": ["person"], **RULES})
    result = await finish_hub_flow(
        hass, await configure(hass, result, {"analyzer": "none"})
    )

    # Then the model and its classes are saved with the hub
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["model_path"] == "homesec/models/red.onnx"
    assert result["data"]["model_classes"] == COCO80


async def test_an_onnx_upload_is_kept_in_the_models_folder(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    hass_client: ClientSessionGenerator,
) -> None:
    """A model uploaded in the form is stored under the config dir and used."""
    # Given the onnx step, and the model uploaded through Home Assistant
    result = await onnx_step(hass)
    file_id = await upload(hass, hass_client, red_model)

    # When the upload is submitted, then the rules
    described = await configure(hass, result, {"model_upload": file_id})
    assert described["step_id"] == "model", described.get("errors")
    result = await configure(hass, described, {"detect_classes": ["person"], **RULES})
    result = await finish_hub_flow(
        hass, await configure(hass, result, {"analyzer": "none"})
    )

    # Then it was described, kept in the models folder and runs the hub
    assert described["description_placeholders"]["size"] == "160x160"
    assert result["data"]["model_path"] == "homesec/models/red.onnx"
    kept = config_dir / "homesec" / "models" / "red.onnx"
    assert kept.read_bytes() == red_model.read_bytes()
    entry = result["result"]
    assert isinstance(entry.runtime_data.engine.detector, OnnxDetector)


async def test_a_corrupt_upload_is_refused_and_not_kept(
    hass: HomeAssistant, config_dir: Path, hass_client: ClientSessionGenerator
) -> None:
    """A file that does not load is named on the upload field and removed."""
    # Given the onnx step and a corrupt .onnx upload
    result = await onnx_step(hass)
    corrupt = config_dir.parent / "corrupt.onnx"
    corrupt.write_bytes(b"\x08\x07 this is no protobuf")
    file_id = await upload(hass, hass_client, corrupt)

    # When it is submitted, and then nothing at all
    refused = await configure(hass, result, {"model_upload": file_id})
    empty = await configure(hass, refused, {})

    # Then the form says so on the upload field, and nothing stays behind
    assert refused["step_id"] == "onnx"
    assert refused["errors"] == {"model_upload": "model_invalid"}
    assert empty["errors"] == {"base": "model_required"}
    models = config_dir / "homesec" / "models"
    assert not models.exists() or list(models.iterdir()) == []


async def test_a_zipped_ncnn_export_is_unpacked_and_described(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A zipped export is unpacked under the models folder and its names shown."""
    # Given a detector that runs NCNN exports, and an export zipped by a user
    _ncnn_for_onnx(monkeypatch)
    export = zipped(
        config_dir.parent / "porch.zip",
        export_entries("porch_ncnn_model", ["package", "fall"]),
    )
    result = await onnx_step(hass)
    file_id = await upload(hass, hass_client, export)

    # When it is submitted
    described = await configure(hass, result, {"model_upload": file_id})

    # Then the export is unpacked and described with its own classes
    assert described["step_id"] == "model", described.get("errors")
    assert described["description_placeholders"] == {
        "model": "porch_ncnn_model",
        "classes": "package, fall",
        "count": "2",
        "size": "320x320",
    }
    assert options_of(described, "detect_classes") == ["package", "fall"]
    folder = config_dir / "homesec" / "models" / "porch_ncnn_model"
    assert sorted(p.name for p in folder.iterdir()) == [
        "metadata.yaml",
        "model.ncnn.bin",
        "model.ncnn.param",
    ]


async def test_a_hostile_zip_is_refused_in_the_form(
    hass: HomeAssistant,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A zip reaching out of its folder is refused with a clear error."""
    # Given a detector that runs NCNN exports, and a zip with a '..' entry
    _ncnn_for_onnx(monkeypatch)
    entries = export_entries("porch_ncnn_model", ["package"])
    entries["porch_ncnn_model/../../../evil.sh"] = b"#!/bin/sh\n"
    hostile = zipped(config_dir.parent / "porch.zip", entries)
    result = await onnx_step(hass)
    file_id = await upload(hass, hass_client, hostile)

    # When it is submitted
    refused = await configure(hass, result, {"model_upload": file_id})

    # Then the upload field says why, and nothing was written
    assert refused["errors"] == {"model_upload": "upload_unsafe"}
    assert not (config_dir / "homesec" / "models").exists()
    assert not list(config_dir.parent.rglob("evil.sh"))


async def test_an_ncnn_export_is_refused_by_an_onnx_only_detector(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A model of a kind the detector cannot run is refused on its field."""
    # Given an NCNN export under the config dir and the onnx step
    folder = config_dir / "porch_ncnn_model"
    folder.mkdir()
    for name, content in export_entries("x", ["package"]).items():
        (folder / name.removeprefix("x/")).write_bytes(content)
    result = await onnx_step(hass)

    # When its path is typed
    refused = await configure(hass, result, {"model_path": "porch_ncnn_model"})

    # Then the detector refuses it (it is not even offered)
    assert refused["errors"] == {"model_path": "model_wrong_format"}
    assert options_of(result, "model_path") == []


@pytest.mark.parametrize("name", ["package", "car"])
async def test_a_custom_model_s_classes_reach_rules_events_and_entities(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path, red_clip: Path, name: str
) -> None:
    """A custom model's class is offered, detected and reported by its name.

    "car" too: in a custom model it is that model's class, not COCO's vehicle.
    """
    # Given the hub flow with a custom model whose one class is ``name``
    model = build_red_person_model(tmp_path / f"{name}.onnx", names={0: name})
    result = await onnx_step(hass)
    described = await configure(hass, result, {"model_path": str(model)})

    # Then only its class is offered, and chosen by default
    assert described["description_placeholders"]["classes"] == name
    assert options_of(described, "detect_classes") == [name]

    # When the flow goes on with the defaults of the model step
    result = await configure(hass, described, RULES | {"detect_classes": [name]})
    result = await configure(hass, result, {"analyzer": "none"})

    # Then the trigger classes are the model's too (not offered: no summaries)
    result = await finish_hub_flow(hass, result)
    entry = result["result"]
    assert entry.data["trigger_classes"] == [name]
    options = await hass.config_entries.options.async_init(entry.entry_id)
    assert options_of(options, "detect_classes") == [name]

    # Given a camera, and an automation on its "object detected" trigger
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, settle_seconds=1)
    device = next(
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if d.model != "Hub"
    )
    trigger = {"platform": "device", "domain": DOMAIN, "device_id": device.id,
               "type": "object_detected"}  # fmt: skip
    extra = await device_trigger.async_get_trigger_capabilities(hass, trigger)
    assert extra["extra_fields"].schema["object"].container == [name]
    calls = async_mock_service(hass, "test", "automation")
    assert await async_setup_component(
        hass,
        "automation",
        {"automation": {"triggers": [trigger | {"object": name}],
                        "actions": [{"action": "test.automation"}]}},
    )  # fmt: skip

    # When a clip with one (in red) arrives on the camera
    detections = async_capture_events(hass, EVENT_DETECTION)
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(detections) == 1, what="a detection")
    await wait_for(lambda: len(calls) == 1, what="the automation")

    # Then the rules kept it; the event, the entity, the trigger and the
    # clip search know it by its name
    assert detections[0].data["detected_classes"] == [name]
    state = hass.states.get("event.front_door_detection")
    assert state is not None
    assert state.attributes["event_type"] == name
    assert name in state.attributes["event_types"]
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    found = await hass.services.async_call(
        DOMAIN,
        "search_clips",
        {"detected_class": name},
        blocking=True,
        return_response=True,
    )
    assert len(found["clips"]) == 1


async def test_the_missing_model_repair_takes_an_upload(
    hass: HomeAssistant,
    config_dir: Path,
    package_model: Path,
    red_model: Path,
    hass_client: ClientSessionGenerator,
    socket_enabled: None,
) -> None:
    """The repair of a missing model offers the upload, and shows the model."""
    # Given a hub whose COCO model is gone, with options still set on it
    assert await async_setup_component(hass, "repairs", {})
    result = await onnx_step(hass)
    result = await configure(hass, result, {"model_path": str(red_model)})
    result = await configure(hass, result, {"detect_classes": ["person"], **RULES})
    entry = (
        await finish_hub_flow(hass, await configure(hass, result, {"analyzer": "none"}))
    )["result"]
    options = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        options["flow_id"], {"detect_classes": ["person"]}
    )
    await hass.async_block_till_done()
    assert entry.options["detect_classes"] == ["person"]
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "model_path": "gone.onnx"}
    )
    await hass.async_block_till_done()
    issue_id = f"model_missing_{entry.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    # When the fix flow gets a custom model uploaded, and is confirmed
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert {str(key) for key in flow["data_schema"].schema} == {
        "model_path", "model_upload"}  # fmt: skip
    file_id = await upload(hass, hass_client, package_model)
    described = await manager.async_configure(
        flow["flow_id"], {"model_upload": file_id}
    )
    done = await manager.async_configure(flow["flow_id"], {})
    await hass.async_block_till_done()

    # Then the model was shown, saved with its classes (also over the options)
    assert described["step_id"] == "model"
    assert described["description_placeholders"]["classes"] == "package"
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert entry.data["model_path"] == "homesec/models/package.onnx"
    assert entry.data["model_classes"] == ["package"]
    assert entry.options["detect_classes"] == ["package"]
    assert isinstance(entry.runtime_data.engine.detector, OnnxDetector)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_reconfiguring_to_a_custom_model_replaces_the_options_classes(
    hass: HomeAssistant, config_dir: Path, red_model: Path, package_model: Path
) -> None:
    """Classes set in the options do not outlive the model they were chosen for."""
    # Given a hub on the COCO model whose options detect people
    result = await onnx_step(hass)
    result = await configure(hass, result, {"model_path": str(red_model)})
    result = await configure(hass, result, {"detect_classes": ["person"], **RULES})
    result = await configure(hass, result, {"analyzer": "none"})
    entry = (await finish_hub_flow(hass, result))["result"]
    options = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        options["flow_id"],
        {"detect_classes": ["person"]},
    )
    await hass.async_block_till_done()

    # When it is reconfigured to the custom model
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    for step in ({}, {}, {"detector": "onnx"}, {"model_path": str(package_model)}):
        result = await configure(hass, result, step)
    assert result["step_id"] == "model"
    result = await configure(hass, result, {"detect_classes": ["package"], **RULES})
    result = await configure(hass, result, {"analyzer": "none"})
    await hass.async_block_till_done()

    # Then the hub detects and triggers on the model's class, nothing stale left
    assert result["reason"] == "reconfigure_successful"
    settings = entry.runtime_data.settings
    assert settings.detect_classes == ("package",)
    assert settings.trigger_classes == ("package",)
    assert settings.model_classes == ("package",)


async def test_a_damaged_model_at_start_raises_the_model_repair(
    hass: HomeAssistant, config_dir: Path, red_model: Path, socket_enabled: None
) -> None:
    """A model that no longer loads is reported like a missing one."""
    # Given a hub on a model under the config dir
    kept = config_dir / "homesec" / "models" / "red.onnx"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(red_model.read_bytes())
    result = await onnx_step(hass)
    result = await configure(hass, result, {"model_path": "homesec/models/red.onnx"})
    result = await configure(hass, result, {"detect_classes": ["person"], **RULES})
    result = await configure(hass, result, {"analyzer": "none"})
    entry = (await finish_hub_flow(hass, result))["result"]
    assert isinstance(entry.runtime_data.engine.detector, OnnxDetector)

    # When the file is damaged and the hub restarts
    await hass.async_add_executor_job(kept.write_bytes, b"\x08\x07damaged")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    # Then it runs on motion detection with the fixable model issue
    assert isinstance(entry.runtime_data.engine.detector, MotionDetector)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"model_missing_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.is_fixable


async def test_leaving_a_custom_model_brings_back_the_usual_classes(
    hass: HomeAssistant, config_dir: Path, package_model: Path
) -> None:
    """A detector without a model of its own detects COCO's classes again."""
    # Given a hub on the custom "package" model
    result = await onnx_step(hass)
    result = await configure(hass, result, {"model_path": str(package_model)})
    result = await configure(hass, result, {"detect_classes": ["package"], **RULES})
    result = await configure(hass, result, {"analyzer": "none"})
    entry = (await finish_hub_flow(hass, result))["result"]

    # When it is reconfigured to motion detection
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    for step in ({}, {}, {"detector": "motion"}, {"analyzer": "none"}):
        result = await configure(hass, result, step)
    await hass.async_block_till_done()

    # Then the package is gone from its classes, the usual groups are back
    assert result["reason"] == "reconfigure_successful"
    settings = entry.runtime_data.settings
    assert settings.model_classes == ()
    assert settings.detect_classes == ("person", "vehicle", "animal")
    assert settings.trigger_classes == ("person", "vehicle", "animal")
