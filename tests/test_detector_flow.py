"""Choosing a detector in Home Assistant: checks before saving, person alerts
through the onnx backend, and the repair issue when packages do not install."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest

from custom_components.homesec.const import (
    DOMAIN,
)
from custom_components.homesec.detector_kinds import DETECTOR_KINDS
from custom_components.homesec.engine.detect.motion import MotionDetector
from custom_components.homesec.engine.detect.onnx import OnnxDetector

from .doubles.detection_server import DetectionServer
from .helpers import (
    alert_for_clip,
    finish_hub_flow,
    setup_onnx_hub,
    start_hub_flow,
)

RULES = {"detect_classes": ["person"], "min_confidence": 0.5, "min_hits": 1,
         "min_box_h_ratio": 0.0}  # fmt: skip


def _requirements(monkeypatch: pytest.MonkeyPatch, requirement: str) -> None:
    """Make the ONNX backend need ``requirement``."""
    onnx = DETECTOR_KINDS["onnx"]
    monkeypatch.setitem(
        DETECTOR_KINDS, "onnx", replace(onnx, requirements=(requirement,))
    )


async def _flow_to(hass: HomeAssistant, detector: str) -> dict[str, Any]:
    result = await start_hub_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"detector": detector}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == detector
    return dict(result)


async def _no_analyzer(hass: HomeAssistant, result: Any) -> Any:
    """Finish the flow without an analyzer."""
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"analyzer": "none"}
    )
    return await finish_hub_flow(hass, result)


async def _onnx_hub(hass: HomeAssistant, model: Path) -> Any:
    """A hub added through the flow with the onnx backend; return its entry."""
    return await setup_onnx_hub(hass, model)


async def test_onnx_flow_checks_the_model(
    hass: HomeAssistant, config_dir: Path, red_model: Path
) -> None:
    """A missing or broken model is refused on its field; a good one is saved."""
    # Given the onnx step, a broken file and the real model in the config dir
    result = await _flow_to(hass, "onnx")
    broken = config_dir / "broken.onnx"
    broken.write_bytes(b"not a model")
    (config_dir / "models").mkdir()
    (config_dir / "models" / "red.onnx").write_bytes(red_model.read_bytes())

    # When a missing path, then a broken file, then the model are submitted
    missing = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": "models/nope.onnx"}
    )
    bad = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": str(broken)}
    )
    good = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": "models/red.onnx"}
    )
    assert good["step_id"] == "model"
    good = await hass.config_entries.flow.async_configure(good["flow_id"], RULES)
    assert good["step_id"] == "analyzer"
    good = await _no_analyzer(hass, good)

    # Then each failure is named on the field and the model is saved (relative)
    assert missing["errors"] == {"model_path": "model_not_found"}
    assert bad["errors"] == {"model_path": "model_invalid"}
    assert good["type"] is FlowResultType.CREATE_ENTRY
    assert good["data"]["detector"] == "onnx"
    assert good["data"]["model_path"] == "models/red.onnx"
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert isinstance(entry.runtime_data.engine.detector, OnnxDetector)


async def test_onnx_install_failure_offers_remote(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    socket_enabled: None,
) -> None:
    """When the backend's packages cannot install, the form says so."""
    # Given packages that cannot be installed (none exists with this name)
    _requirements(monkeypatch, "homesec-no-such-package-anywhere>=1")
    result = await _flow_to(hass, "onnx")

    # When the model is submitted
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": str(red_model)}
    )

    # Then the form explains it (the text suggests the remote detector)
    assert result["errors"] == {"base": "requirements_failed"}


async def test_remote_flow_checks_the_server(
    hass: HomeAssistant, config_dir: Path, detection_server: DetectionServer
) -> None:
    """An unreachable server or a wrong key is refused; a working one is saved."""
    # Given the remote step, and a server that wants an API key
    result = await _flow_to(hass, "remote")
    detection_server.api_key = "secret"

    # When an unreachable URL, a wrong key, then the right settings are submitted
    down = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"remote_url": "http://127.0.0.1:9", **RULES}
    )
    wrong = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"remote_url": detection_server.url, "remote_api_key": "guess", **RULES},
    )
    up = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"remote_url": detection_server.url, "remote_api_key": "secret", **RULES},
    )
    up = await _no_analyzer(hass, up)

    # Then each error is on its field; the last is saved after a test request
    assert down["errors"] == {"remote_url": "cannot_connect"}
    assert wrong["errors"] == {"remote_api_key": "invalid_auth"}
    assert up["type"] is FlowResultType.CREATE_ENTRY
    assert up["data"]["remote_url"] == detection_server.url
    assert len(detection_server.requests) == 1


async def test_person_alert_through_the_onnx_backend(
    hass: HomeAssistant, config_dir: Path, red_model: Path, red_clip: Path
) -> None:
    """A person in a clip gives an alert and a person detection event."""
    # Given a hub on the onnx backend
    entry = await _onnx_hub(hass, red_model)

    # When the red-box clip is dropped into a camera's folder
    alert = await alert_for_clip(hass, entry, config_dir / "drop", red_clip)

    # Then the alert and the detection entity say person
    assert alert.data["detected_classes"] == ["person"]
    state = hass.states.get("event.front_door_detection")
    assert state.attributes["event_type"] == "person"


async def test_failed_install_at_setup_raises_a_repair_issue(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    monkeypatch: pytest.MonkeyPatch,
    socket_enabled: None,
) -> None:
    """A hub whose backend cannot install runs on motion with a repair issue."""
    # Given a hub saved with the onnx backend
    entry = await _onnx_hub(hass, red_model)

    # When its packages can no longer be installed and it is reloaded
    _requirements(monkeypatch, "homesec-no-such-package-anywhere>=1")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    # Then it runs on motion detection, and a repair issue explains why
    assert isinstance(entry.runtime_data.engine.detector, MotionDetector)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"requirements_failed_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {
        "backend": "onnx",
        "packages": "homesec-no-such-package-anywhere>=1",
    }

    # When the packages install again and it reloads, then the issue is gone
    _requirements(monkeypatch, "onnxruntime>=1.17.0")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert isinstance(entry.runtime_data.engine.detector, OnnxDetector)
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, f"requirements_failed_{entry.entry_id}"
        )
        is None
    )


async def test_missing_model_is_repaired_from_the_repair_issue(
    hass: HomeAssistant, config_dir: Path, red_model: Path, socket_enabled: None
) -> None:
    """A model file gone at start gives motion detection and a fixable issue."""
    # Given a hub saved with the onnx backend, whose model file is then moved
    assert await async_setup_component(hass, "repairs", {})
    entry = await _onnx_hub(hass, red_model)
    moved = config_dir / "models" / "person.onnx"
    moved.parent.mkdir()
    moved.write_bytes(red_model.read_bytes())
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "model_path": str(config_dir / "gone.onnx")}
    )
    await hass.async_block_till_done()

    # Then the hub runs on motion detection with a fixable repair issue
    assert isinstance(entry.runtime_data.engine.detector, MotionDetector)
    issue_id = f"model_missing_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable

    # When the fix flow gets a wrong path, then the file's new place
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    wrong = await manager.async_configure(
        flow["flow_id"], {"model_path": "models/nothing.onnx"}
    )
    described = await manager.async_configure(
        flow["flow_id"], {"model_path": "models/person.onnx"}
    )
    assert described["step_id"] == "model"
    done = await manager.async_configure(flow["flow_id"], {})
    await hass.async_block_till_done()

    # Then the wrong one is refused; the right one is saved, loaded, issue gone
    assert wrong["errors"] == {"model_path": "model_not_found"}
    assert done["type"] is FlowResultType.CREATE_ENTRY
    assert entry.data["model_path"] == "models/person.onnx"
    assert isinstance(entry.runtime_data.engine.detector, OnnxDetector)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
