"""Repair fix flows when their hub is gone or their issue has no fix."""

from __future__ import annotations

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest

from custom_components.homesec import repairs
from custom_components.homesec.const import DOMAIN


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
