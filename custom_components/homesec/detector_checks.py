"""Checks a detector configuration passes before it is saved."""

from __future__ import annotations

from collections.abc import Mapping
import logging
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.requirements import RequirementsNotFound

from . import factory
from .const import DETECTOR_ONNX
from .detector_setup import async_install_backend
from .engine.detect.onnx import OnnxModel
from .engine.detect.remote import RemoteDetector, RemoteDetectorError
from .engine.detect.ultralytics import load_model
from .engine.errors import CredentialsRejected

_LOGGER = logging.getLogger(__name__)


async def async_check_model(
    hass: HomeAssistant, backend: str, data: Mapping[str, Any]
) -> dict[str, str]:
    """Install the backend's packages and load the model; return form errors."""
    try:
        await async_install_backend(hass, backend)
    except RequirementsNotFound:
        return {"base": "requirements_failed"}
    path = factory.model_path(data, hass.config.path)
    if not await hass.async_add_executor_job(path.is_file):
        return {"model_path": "model_not_found"}
    try:
        if backend == DETECTOR_ONNX:
            await hass.async_add_executor_job(_load_onnx, path)
        else:
            settings = factory.ultralytics_settings(data, hass.config.path)
            await hass.async_add_executor_job(load_model, settings)
    except Exception as err:  # noqa: BLE001 - any load failure is reported
        _LOGGER.warning("The model %s does not load: %s", path.name, err)
        return {"model_path": "model_invalid"}
    return {}


def _load_onnx(path: Path) -> None:
    OnnxModel(path, threads=1)


async def async_check_remote(
    hass: HomeAssistant, data: Mapping[str, Any]
) -> dict[str, str]:
    """Ask the detection server about a blank frame; return form errors."""
    detector = factory.detector(
        data,
        hass.config.path,
        hass.async_add_executor_job,
        async_get_clientsession(hass),
    )
    assert isinstance(detector, RemoteDetector)
    try:
        await detector.check()
    except CredentialsRejected:
        return {"remote_api_key": "invalid_auth"}
    except RemoteDetectorError as err:
        _LOGGER.info("The detection server failed its check: %s", err)
        return {"remote_url": "cannot_connect"}
    return {}
