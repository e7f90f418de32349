"""Choosing a detection model in a form: found under the config dir, or uploaded.

The model is checked by loading it, then described to the user before it is
saved.

Shared by the hub's config flow (setup and reconfigure) and the repair flow of
a missing model.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path
from typing import Any

from homeassistant.components.file_upload import process_uploaded_file
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    FileSelector,
    FileSelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio

from .const import (
    CONF_DETECT_CLASSES,
    CONF_MODEL_CLASSES,
    CONF_MODEL_PATH,
    CONF_MODEL_UPLOAD,
    CONF_TRIGGER_CLASSES,
)
from .detector_kinds import DetectorKind, async_describe_model
from .engine.detect.model_files import (
    MODELS_FOLDER,
    UploadProblem,
    discard,
    find_models,
    store_upload,
)
from .engine.detect.model_info import ModelFormat, ModelInfo
from .engine.detect.rules import offered_classes
from .settings import HUB_DEFAULTS, HubSettings

_LOGGER = logging.getLogger(__name__)
MAX_CLASSES_SHOWN = 40
UPLOAD_SUFFIXES: dict[ModelFormat, str] = {"onnx": ".onnx", "pt": ".pt", "ncnn": ".zip"}


@dataclass(frozen=True, slots=True)
class ChosenModel:
    """A model that loaded: the entry's new values and its description."""

    data: dict[str, Any]
    info: ModelInfo


async def async_model_fields(hass: HomeAssistant, kind: DetectorKind) -> dict[Any, Any]:
    """A model found under the config dir (or a typed path), or an upload."""
    config_dir = Path(hass.config.config_dir)
    found = await hass.async_add_executor_job(find_models, config_dir, kind.formats)
    accept = ",".join(UPLOAD_SUFFIXES[model] for model in kind.formats)
    return {
        probatio.Optional(CONF_MODEL_PATH): SelectSelector(
            SelectSelectorConfig(
                options=found, custom_value=True, mode=SelectSelectorMode.DROPDOWN
            )
        ),
        probatio.Optional(CONF_MODEL_UPLOAD): FileSelector(
            FileSelectorConfig(accept=accept)
        ),
    }


async def async_choose_model(
    hass: HomeAssistant,
    kind: DetectorKind,
    current: dict[str, Any],
    user_input: dict[str, Any],
) -> ChosenModel | dict[str, str]:
    """Store an upload (if any) and load the model: the choice, or form errors."""
    data = {k: v for k, v in user_input.items() if k != CONF_MODEL_UPLOAD}
    upload = user_input.get(CONF_MODEL_UPLOAD)
    stored: Path | None = None
    if upload:
        kept = await hass.async_add_executor_job(_keep_upload, hass, upload, kind)
        if isinstance(kept, UploadProblem):
            _LOGGER.warning("The uploaded model was refused: %s", kept.detail)
            return {CONF_MODEL_UPLOAD: kept.reason}
        stored = kept
        data[CONF_MODEL_PATH] = kept.relative_to(hass.config.config_dir).as_posix()
    elif not data.get(CONF_MODEL_PATH):
        return {"base": "model_required"}
    settings = HubSettings.from_data({**current, **data})
    described = await async_describe_model(hass, settings)
    if isinstance(described, ModelInfo):
        return ChosenModel(data | {CONF_MODEL_CLASSES: described.labels}, described)
    if stored is not None:
        await hass.async_add_executor_job(discard, stored)
        if CONF_MODEL_PATH in described:
            return {CONF_MODEL_UPLOAD: described[CONF_MODEL_PATH]}
    return described


def _keep_upload(
    hass: HomeAssistant, file_id: str, kind: DetectorKind
) -> Path | UploadProblem:
    """Move an uploaded model under the models folder (blocking)."""
    models = Path(hass.config.config_dir) / MODELS_FOLDER
    try:
        with process_uploaded_file(hass, file_id) as upload:
            return store_upload(upload, models, kind.formats)
    except ValueError:
        return UploadProblem("upload_not_model", "the upload is gone")


def model_placeholders(info: ModelInfo, path: str) -> dict[str, str]:
    """What the confirm step tells the user about the model."""
    labels = info.labels
    shown = ", ".join(labels[:MAX_CLASSES_SHOWN])
    if len(labels) > MAX_CLASSES_SHOWN:
        shown += f" (+{len(labels) - MAX_CLASSES_SHOWN})"
    return {
        "model": Path(path).name,
        "classes": shown,
        "count": str(len(labels)),
        "size": f"{info.imgsz}x{info.imgsz}",
    }


def fitted_classes(data: dict[str, Any], labels: list[str]) -> dict[str, list[str]]:
    """Detect and trigger classes kept where the model offers them.

    A class the model does not know is dropped; none left: the defaults
    (person, vehicle, animal) for a COCO model, all of its classes for another.
    """
    choices = offered_classes(labels)
    fitted: dict[str, list[str]] = {}
    for key in (CONF_DETECT_CLASSES, CONF_TRIGGER_CLASSES):
        default = getattr(HUB_DEFAULTS, key)
        kept = [name for name in data.get(key, default) if name in choices]
        usual = [name for name in default if name in choices]
        fitted[key] = kept or usual or list(choices)
    return fitted
