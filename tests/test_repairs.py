"""Repair fix flows: a failing camera's form, a hub that is gone, no fix."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import SOURCE_RECONFIGURE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec import repairs
from custom_components.homesec.const import DOMAIN, SUBENTRY_CAMERA

from .helpers import FolderHub


async def test_fix_flow_of_a_removed_hub_aborts(hass: HomeAssistant) -> None:
    """A missing-model issue left by a removed hub ends without changes."""
    # Given repairs and a fixable issue naming a hub that no longer exists
    assert await async_setup_component(hass, "repairs", {})
    assert await async_setup_component(hass, DOMAIN, {})
    ir.async_create_issue(
        hass, DOMAIN, "model_missing_gone", is_fixable=True,
        severity=ir.IssueSeverity.ERROR, translation_key="model_missing",
        translation_placeholders={"backend": "onnx", "path": "/x.onnx"},
        data={"entry_id": "gone"},
    )  # fmt: skip
    manager = repairs_flow_manager(hass)
    assert manager is not None

    # When its fix is started
    result = await manager.async_init(DOMAIN, data={"issue_id": "model_missing_gone"})

    # Then it aborts, saying the hub was removed
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_removed"


async def test_issues_without_data_have_no_fix(hass: HomeAssistant) -> None:
    """Only issues that name their hub can be fixed."""
    # Given an issue id without data, when a fix is asked for, then it is refused
    with pytest.raises(ValueError, match="no fix"):
        await repairs.async_create_fix_flow(hass, "source_failing_x", None)


async def _failing_for_long(hass: HomeAssistant, folder_hub: FolderHub) -> str:
    """Remove the camera's folder until its repair issue is raised; its id."""
    hub = folder_hub.entry.runtime_data
    folder_hub.folder.rmdir()
    await hub.runtime.sources["front_door"].poll_once(hub.engine.pipeline.submit)
    start = dt_util.utcnow()
    hub.health.check(start)
    hub.health.check(start + timedelta(seconds=360))
    return "source_failing_front_door"


async def test_a_failing_camera_is_fixed_in_its_own_form(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    folder_hub: FolderHub,
    config_dir: Path,
) -> None:
    """The Fix of a failing camera opens that camera's Reconfigure form."""
    # Given a camera whose folder has been gone for six minutes
    assert await async_setup_component(hass, "repairs", {})
    issue_id = await _failing_for_long(hass, folder_hub)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    client = await hass_client()

    # When the user selects Fix, as the frontend does
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )

    # Then the repair hands over to the camera's reconfigure flow
    assert response.status == HTTPStatus.OK
    fixed = await response.json()
    assert fixed["type"] == "create_entry"
    kind, flow_id = fixed["next_flow"]
    assert kind == "config_subentries_flow"
    flow = hass.config_entries.subentries.async_get(flow_id)
    subentry_id = next(iter(folder_hub.entry.subentries))
    assert flow["handler"] == (folder_hub.entry.entry_id, SUBENTRY_CAMERA)
    assert flow["context"]["source"] == SOURCE_RECONFIGURE
    assert flow["context"]["subentry_id"] == subentry_id

    # When the user points the camera at a folder that exists in that form
    moved = config_dir / "moved"
    moved.mkdir()
    manager = hass.config_entries.subentries
    result = await manager.async_configure(flow_id, {"name": "Front door"})
    result = await manager.async_configure(flow_id, {"watch_folder": str(moved)})
    await hass.async_block_till_done()

    # Then the camera is saved and its issue does not come back
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    hub = folder_hub.entry.runtime_data
    hub.health.check(dt_util.utcnow() + timedelta(seconds=720))
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_the_fix_of_a_removed_camera_aborts(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """A camera removed since its issue was raised is not reconfigured."""
    # Given a failing camera's issue, and then the camera removed
    assert await async_setup_component(hass, "repairs", {})
    issue_id = await _failing_for_long(hass, folder_hub)
    entry = folder_hub.entry
    hass.config_entries.async_remove_subentry(entry, next(iter(entry.subentries)))
    await hass.async_block_till_done()
    ir.async_create_issue(
        hass, DOMAIN, issue_id, is_fixable=True,
        severity=ir.IssueSeverity.ERROR, translation_key="source_failing",
        translation_placeholders={"camera": "Front door", "problem": "x"},
        data={"entry_id": entry.entry_id, "subentry_id": "gone"},
    )  # fmt: skip
    manager = repairs_flow_manager(hass)
    assert manager is not None

    # When its fix is started, then it aborts, saying the camera was removed
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "camera_removed"


async def test_the_camera_fix_of_a_removed_hub_aborts(hass: HomeAssistant) -> None:
    """A failing camera's issue left by a removed hub ends without changes."""
    # Given repairs and a camera's issue naming a hub that no longer exists
    assert await async_setup_component(hass, "repairs", {})
    assert await async_setup_component(hass, DOMAIN, {})
    ir.async_create_issue(
        hass, DOMAIN, "source_failing_porch", is_fixable=True,
        severity=ir.IssueSeverity.ERROR, translation_key="source_failing",
        translation_placeholders={"camera": "Porch", "problem": "timed out"},
        data={"entry_id": "gone", "subentry_id": "porch"},
    )  # fmt: skip
    manager = repairs_flow_manager(hass)
    assert manager is not None

    # When its fix is started, then it aborts, saying the hub was removed
    result = await manager.async_init(DOMAIN, data={"issue_id": "source_failing_porch"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_removed"
