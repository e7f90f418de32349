"""Prepare the hub's detector: install its packages on demand, or fall back.

onnxruntime and ultralytics have no musl wheels, so they are not manifest
requirements. When a hub uses such a backend its packages are installed now;
if that fails (Home Assistant OS), a repair issue explains it and suggests the
remote backend, and the hub runs on motion detection meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.requirements import RequirementsNotFound, async_process_requirements

from . import factory
from .const import (
    BACKEND_REQUIREMENTS,
    CONF_DETECTOR,
    DOMAIN,
    ISSUE_MODEL_MISSING,
    ISSUE_REQUIREMENTS_FAILED,
)
from .engine.detect.motion import MotionDetector, MotionSettings
from .engine.interfaces import ObjectDetector

_LOGGER = logging.getLogger(__name__)


async def async_install_backend(hass: HomeAssistant, backend: str) -> None:
    """Install the packages a detector backend needs; raise RequirementsNotFound."""
    requirements = BACKEND_REQUIREMENTS.get(backend)
    if requirements:
        await async_process_requirements(hass, DOMAIN, requirements)


async def async_build_detector(
    hass: HomeAssistant, entry_id: str, data: Mapping[str, Any]
) -> ObjectDetector:
    """The configured detector, or motion detection with a repair issue."""
    backend = str(data.get(CONF_DETECTOR, "motion"))
    issue_id = f"{ISSUE_REQUIREMENTS_FAILED}_{entry_id}"
    try:
        await async_install_backend(hass, backend)
    except RequirementsNotFound as err:
        _LOGGER.error(  # noqa: TRY400 - one line, the repair issue says more
            "Cannot install %s for the %s detector; using motion detection: %s",
            ", ".join(BACKEND_REQUIREMENTS[backend]),
            backend,
            err,
        )
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_REQUIREMENTS_FAILED,
            translation_placeholders={
                "backend": backend,
                "packages": ", ".join(BACKEND_REQUIREMENTS[backend]),
            },
        )
        return MotionDetector(MotionSettings(), hass.async_add_executor_job)
    ir.async_delete_issue(hass, DOMAIN, issue_id)
    if backend in BACKEND_REQUIREMENTS and not await _model_exists(hass, data):
        return _without_model(hass, entry_id, backend, data)
    ir.async_delete_issue(hass, DOMAIN, f"{ISSUE_MODEL_MISSING}_{entry_id}")
    return factory.detector(
        data,
        hass.config.path,
        hass.async_add_executor_job,
        async_get_clientsession(hass),
    )


async def _model_exists(hass: HomeAssistant, data: Mapping[str, Any]) -> bool:
    path = factory.model_path(data, hass.config.path)
    return await hass.async_add_executor_job(path.is_file)


def _without_model(
    hass: HomeAssistant, entry_id: str, backend: str, data: Mapping[str, Any]
) -> ObjectDetector:
    """Motion detection, and a repair issue that asks for the model file."""
    path = factory.model_path(data, hass.config.path)
    _LOGGER.error("The %s model %s is missing; using motion detection", backend, path)
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"{ISSUE_MODEL_MISSING}_{entry_id}",
        is_fixable=True,
        severity=ir.IssueSeverity.ERROR,
        translation_key=ISSUE_MODEL_MISSING,
        translation_placeholders={"backend": backend, "path": str(path)},
        data={"entry_id": entry_id},
    )
    return MotionDetector(MotionSettings(), hass.async_add_executor_job)
