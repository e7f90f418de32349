"""Choosing the ncnn detector in Home Assistant: offered first among local
models, its model checked before saving, a person alert through it, and a
corrupt model at start turned into the model repair issue."""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.engine.detect.motion import MotionDetector
from custom_components.homesec.engine.detect.ncnn import NcnnDetector

from .helpers import (
    PERSON_RULES,
    alert_for_clip,
    finish_hub_flow,
    start_hub_flow,
    upload,
)
from .ncnn_export import export, zipped


async def _ncnn_step(hass: HomeAssistant) -> dict[str, Any]:
    result = await start_hub_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"detector": "ncnn"}
    )
    assert result["step_id"] == "ncnn"
    return dict(result)


async def _ncnn_hub(hass: HomeAssistant, model_path: str) -> Any:
    """A hub on the ncnn backend, added through the flow; return its entry."""
    result = await _ncnn_step(hass)
    for step in ({"model_path": model_path}, PERSON_RULES, {"analyzer": "none"}):
        result = dict(
            await hass.config_entries.flow.async_configure(result["flow_id"], step)
        )
    return (await finish_hub_flow(hass, result))["result"]


def _copy(model: Path, config_dir: Path, name: str = "red_ncnn_model") -> str:
    """Copy the export folder under the config dir; return its relative path."""
    shutil.copytree(model, config_dir / "models" / name)
    return f"models/{name}"


async def test_ncnn_is_the_first_local_choice(hass: HomeAssistant) -> None:
    """The detector choice lists ncnn right after motion, before other models."""
    # Given the hub flow at its detector step
    result = await start_hub_flow(hass)

    # Then ncnn is offered first among the model backends
    selector = result["data_schema"].schema["detector"]
    options = selector.config["options"]
    assert options[:3] == ["motion", "ncnn", "onnx"]


async def test_ncnn_flow_checks_the_model(
    hass: HomeAssistant, config_dir: Path, red_ncnn: Path
) -> None:
    """A missing or corrupt model is refused on its field; a good one is saved."""
    # Given the ncnn step, a corrupt export and the real one in the config dir
    result = await _ncnn_step(hass)
    good = _copy(red_ncnn, config_dir)
    corrupt = _copy(red_ncnn, config_dir, "corrupt_ncnn_model")
    (config_dir / corrupt / "model.ncnn.param").write_text("not a model")

    # When a missing path, the corrupt export, then the good one are submitted
    missing = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": "models/nope_ncnn_model"}
    )
    bad = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": corrupt}
    )
    described = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": good}
    )
    assert described["step_id"] == "model"
    saved = await hass.config_entries.flow.async_configure(
        result["flow_id"], PERSON_RULES
    )
    assert saved["step_id"] == "analyzer"
    saved = await hass.config_entries.flow.async_configure(
        saved["flow_id"], {"analyzer": "none"}
    )
    saved = await finish_hub_flow(hass, saved)

    # Then each failure is named on the field, and the hub runs on ncnn
    assert missing["errors"] == {"model_path": "model_not_found"}
    assert bad["errors"] == {"model_path": "model_invalid"}
    assert saved["type"] is FlowResultType.CREATE_ENTRY
    assert saved["data"]["detector"] == "ncnn"
    assert saved["data"]["model_path"] == good
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert isinstance(entry.runtime_data.engine.detector, NcnnDetector)


async def test_an_export_with_another_model_s_names_is_refused(
    hass: HomeAssistant, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Metadata naming other classes than the model scores: refused, and why."""
    # Given the ncnn step and an export whose metadata names 2 of its 80 classes
    result = await _ncnn_step(hass)
    export(config_dir / "models" / "mixed_ncnn_model", ["package", "fall"], classes=80)

    # When it is submitted
    refused = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": "models/mixed_ncnn_model"}
    )

    # Then the form refuses it on its field, and the log says why, once
    assert refused["errors"] == {"model_path": "model_invalid"}
    reasons = [
        message
        for record in caplog.records
        if "does not load" in (message := record.getMessage())
    ]
    assert reasons == [
        "The model mixed_ncnn_model does not load: its metadata names 2 classes "
        "but the model scores 80 (export it again with Ultralytics)"
    ]


async def test_person_alert_through_ncnn(
    hass: HomeAssistant, config_dir: Path, red_ncnn: Path, red_clip: Path
) -> None:
    """A person in a clip gives an alert through the ncnn backend."""
    # Given a hub on ncnn
    entry = await _ncnn_hub(hass, _copy(red_ncnn, config_dir))

    # When the red-box clip is dropped into a camera's folder
    alert = await alert_for_clip(hass, entry, config_dir / "drop", red_clip)

    # Then the alert and the detection entity say person
    assert alert.data["detected_classes"] == ["person"]
    state = hass.states.get("event.front_door_detection")
    assert state.attributes["event_type"] == "person"


async def test_corrupt_model_at_start_is_repaired(
    hass: HomeAssistant,
    config_dir: Path,
    red_ncnn: Path,
    socket_enabled: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A model that no longer loads gives motion detection and the repair issue."""
    # Given a hub on ncnn whose weights file is then truncated, and reloaded
    assert await async_setup_component(hass, "repairs", {})
    entry = await _ncnn_hub(hass, _copy(red_ncnn, config_dir))
    fixed = _copy(red_ncnn, config_dir, "fixed_ncnn_model")
    weights = config_dir / "models" / "red_ncnn_model" / "model.ncnn.bin"
    weights.write_bytes(weights.read_bytes()[:10])
    caplog.clear()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    # Then one log line says why, and the hub runs on motion detection with a
    # fixable repair issue
    reasons = [m for r in caplog.records if "lacks weights" in (m := r.getMessage())]
    assert len(reasons) == 1
    assert "ncnn model" in reasons[0]
    assert "using motion detection" in reasons[0]
    assert isinstance(entry.runtime_data.engine.detector, MotionDetector)
    issue_id = f"model_missing_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders["backend"] == "ncnn"

    # When the fix flow gets the corrupt model again, then a good one
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    again = await manager.async_configure(
        flow["flow_id"], {"model_path": "models/red_ncnn_model"}
    )
    described = await manager.async_configure(flow["flow_id"], {"model_path": fixed})
    assert described["step_id"] == "model"
    done = await manager.async_configure(flow["flow_id"], {})
    await hass.async_block_till_done()

    # Then the corrupt one is refused; the good one is saved, loaded, issue gone
    assert again["errors"] == {"model_path": "model_invalid"}
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert entry.data["model_path"] == fixed
    assert isinstance(entry.runtime_data.engine.detector, NcnnDetector)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


def _zip_export(folder: Path, path: Path, *, damage: bool = False) -> Path:
    """Zip an export folder as a user would (its folder inside the zip)."""
    entries = {f"{folder.name}/{f.name}": f.read_bytes() for f in folder.iterdir()}
    if damage:
        entries[f"{folder.name}/model.ncnn.param"] = b"not a model"
    return zipped(path, entries)


async def test_a_zipped_export_uploaded_in_the_ncnn_step_runs(
    hass: HomeAssistant,
    config_dir: Path,
    red_ncnn: Path,
    red_clip: Path,
    hass_client: ClientSessionGenerator,
) -> None:
    """A damaged zip is refused on the upload field; a good one is kept and runs."""
    # Given the ncnn step, a zipped export whose description is damaged and
    # the same export zipped intact
    result = await _ncnn_step(hass)
    damaged = _zip_export(red_ncnn, config_dir.parent / "damaged.zip", damage=True)
    good = _zip_export(red_ncnn, config_dir.parent / "red.zip")
    damaged_id = await upload(hass, hass_client, damaged)
    good_id = await upload(hass, hass_client, good)

    # When the damaged one is submitted
    refused = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_upload": damaged_id}
    )

    # Then the form names the upload field and keeps nothing of it
    assert refused["step_id"] == "ncnn"
    assert refused["errors"] == {"model_upload": "model_invalid"}
    models = config_dir / "homesec" / "models"
    assert not models.exists() or list(models.iterdir()) == []

    # When the good one is submitted and the flow finished
    described = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_upload": good_id}
    )
    assert described["step_id"] == "model", described.get("errors")
    placeholders = described["description_placeholders"]
    result = dict(
        await hass.config_entries.flow.async_configure(
            described["flow_id"], PERSON_RULES
        )
    )
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"analyzer": "none"}
        )
    )
    entry = (await finish_hub_flow(hass, result))["result"]

    # Then the export is unpacked under HomeSec's models folder, described,
    # saved, and finds the person through ncnn
    assert placeholders["model"] == red_ncnn.name
    assert placeholders["classes"].startswith("person, bicycle, car")
    assert entry.data["model_path"] == f"homesec/models/{red_ncnn.name}"
    assert (models / red_ncnn.name / "model.ncnn.bin").is_file()
    assert isinstance(entry.runtime_data.engine.detector, NcnnDetector)
    alert = await alert_for_clip(hass, entry, config_dir / "drop", red_clip)
    assert alert.data["detected_classes"] == ["person"]
