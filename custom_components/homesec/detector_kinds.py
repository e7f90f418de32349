"""One entry per detector backend: its form, its check, how it is built.

Local model backends are not manifest requirements: their packages are
installed when a hub uses them. ncnn has wheels for Home Assistant OS (musl);
onnxruntime and ultralytics do not. If the install fails, or the model is
missing or does not load, a repair issue explains it and the hub runs on
motion detection meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import logging
from pathlib import Path
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.requirements import RequirementsNotFound, async_process_requirements
from homeassistant.util.package import is_docker_env
import probatio

from .const import (
    CONF_IMGSZ,
    CONF_MODEL_PATH,
    CONF_REMOTE_API_KEY,
    CONF_REMOTE_URL,
    DETECTOR_MOTION,
    DETECTOR_NCNN,
    DETECTOR_ONNX,
    DETECTOR_REMOTE,
    DETECTOR_ULTRALYTICS,
    DOMAIN,
    ISSUE_MODEL_MISSING,
    ISSUE_REQUIREMENTS_FAILED,
)
from .engine.detect.model_info import (
    ModelFormat,
    ModelInfo,
    ModelProblem,
    model_format,
    read_model_info,
)
from .engine.detect.motion import MotionDetector, MotionSettings
from .engine.detect.ncnn import NcnnDetector, NcnnSettings
from .engine.detect.onnx import OnnxDetector, OnnxSettings
from .engine.detect.remote import RemoteDetector, RemoteDetectorError, RemoteSettings
from .engine.detect.rules import DetectionRules, is_coco
from .engine.detect.ultralytics import (
    UltralyticsDetector,
    UltralyticsSettings,
    load_model,
)
from .engine.detect.yolo import class_names
from .engine.errors import CredentialsRejected
from .engine.interfaces import BlockingRunner, ObjectDetector
from .engine.text import describe
from .selectors import PASSWORD, URL, box
from .settings import HUB_DEFAULTS, HubSettings

_LOGGER = logging.getLogger(__name__)

type Check = Callable[[HomeAssistant, HubSettings], Awaitable[dict[str, str]]]
type Describe = Callable[[HubSettings, Path], ModelInfo | ModelProblem]


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What building a detector needs from Home Assistant."""

    config_dir: Path
    run: BlockingRunner
    session: aiohttp.ClientSession

    @classmethod
    def of(cls, hass: HomeAssistant) -> BuildContext:
        """Home Assistant's config dir, executor and shared HTTP session."""
        return cls(
            Path(hass.config.config_dir),
            hass.async_add_executor_job,
            async_get_clientsession(hass),
        )


@dataclass(frozen=True, kw_only=True)
class DetectorKind:
    """A detector backend."""

    key: str
    build: Callable[[HubSettings, BuildContext], ObjectDetector]
    fields: Callable[[], dict[Any, Any]] = dict
    """Its own form fields (besides the model and the detection rules)."""
    check: Check | None = None
    """Checks the form's input; None: nothing to check."""
    requirements: tuple[str, ...] = ()
    """Packages installed on demand (no musl wheels)."""
    formats: tuple[ModelFormat, ...] = ()
    """The model formats it runs, offered by the model picker; none: no model."""
    describe: Describe | None = None
    """Loads its model once and describes it (blocking); None: no model."""
    check_at_start: bool = False
    """Whether ``describe`` is quick enough to check the model at every start."""
    credential_fields: tuple[str, ...] = field(default=())
    """The fields a reauthentication asks for when the server refuses them."""


def detection_rules(settings: HubSettings) -> DetectionRules:
    """Which detections count."""
    return DetectionRules(
        classes=frozenset(settings.detect_classes),
        min_confidence=settings.min_confidence,
        min_box_h_ratio=settings.min_box_h_ratio,
        min_hits=settings.min_hits,
        coco_groups=is_coco(settings.model_classes),
    )


def ultralytics_settings(
    settings: HubSettings, config_dir: Path
) -> UltralyticsSettings:
    """Settings of the ultralytics backend (its own files under the config dir)."""
    return UltralyticsSettings(
        model_path=settings.model_file(config_dir),
        config_dir=config_dir / "homesec/ultralytics",
        imgsz=settings.imgsz,
        rules=detection_rules(settings),
    )


def _motion(settings: HubSettings, context: BuildContext) -> ObjectDetector:
    return MotionDetector(MotionSettings(), context.run)


def ncnn_settings(settings: HubSettings, config_dir: Path) -> NcnnSettings:
    """Settings of the ncnn backend."""
    return NcnnSettings(
        model_path=settings.model_file(config_dir),
        imgsz=settings.imgsz,
        rules=detection_rules(settings),
    )


def _ncnn(settings: HubSettings, context: BuildContext) -> ObjectDetector:
    return NcnnDetector(ncnn_settings(settings, context.config_dir))


def _onnx(settings: HubSettings, context: BuildContext) -> ObjectDetector:
    return OnnxDetector(
        OnnxSettings(
            model_path=settings.model_file(context.config_dir),
            rules=detection_rules(settings),
        )
    )


def _ultralytics(settings: HubSettings, context: BuildContext) -> ObjectDetector:
    return UltralyticsDetector(ultralytics_settings(settings, context.config_dir))


def _remote(settings: HubSettings, context: BuildContext) -> RemoteDetector:
    return RemoteDetector(
        RemoteSettings(
            url=str(settings.remote_url),
            api_key=settings.remote_api_key,
            rules=detection_rules(settings),
        ),
        context.session,
        context.run,
    )


def describe_model_file(
    settings: HubSettings, config_dir: Path
) -> ModelInfo | ModelProblem:
    """Read an .onnx model or an NCNN export (blocking)."""
    return read_model_info(settings.model_file(config_dir))


def _describe_ultralytics(
    settings: HubSettings, config_dir: Path
) -> ModelInfo | ModelProblem:
    path = settings.model_file(config_dir)
    if not path.exists():
        return ModelProblem("model_not_found", f"{path.name} does not exist")
    try:
        model = load_model(ultralytics_settings(settings, config_dir))
    except Exception as err:  # noqa: BLE001 - any load failure is reported
        return ModelProblem("model_invalid", f"Ultralytics refused it: {err}")
    names = class_names(str(dict(model.names)), len(model.names))
    return ModelInfo(
        format=model_format(path) or "pt", names=names, imgsz=settings.imgsz
    )


async def _model_present(hass: HomeAssistant, settings: HubSettings) -> bool:
    """Whether the configured model file (or NCNN folder) exists."""
    path = settings.model_file(Path(hass.config.config_dir))
    return bool(settings.model_path) and await hass.async_add_executor_job(path.exists)


async def async_describe_model(
    hass: HomeAssistant, settings: HubSettings
) -> ModelInfo | dict[str, str]:
    """Install the backend's packages and load the model.

    Returns the model's description, or form errors.
    """
    try:
        await async_install(hass, settings.detector)
    except RequirementsNotFound:
        return {"base": "requirements_failed"}
    kind = DETECTOR_KINDS[settings.detector]
    assert kind.describe is not None
    if not await _model_present(hass, settings):
        return {CONF_MODEL_PATH: "model_not_found"}
    config_dir = Path(hass.config.config_dir)
    known = model_format(settings.model_file(config_dir))
    if known is not None and known not in kind.formats:
        return {CONF_MODEL_PATH: "model_wrong_format"}
    described = await hass.async_add_executor_job(kind.describe, settings, config_dir)
    if isinstance(described, ModelProblem):
        _LOGGER.warning(
            "The model %s does not load: %s",
            settings.model_file(config_dir).name,
            described.detail,
        )
        return {CONF_MODEL_PATH: described.reason}
    return described


async def async_check_remote(
    hass: HomeAssistant, settings: HubSettings
) -> dict[str, str]:
    """Ask the detection server about a blank frame; return form errors."""
    detector = _remote(settings, BuildContext.of(hass))
    try:
        await detector.check()
    except CredentialsRejected:
        return {CONF_REMOTE_API_KEY: "invalid_auth"}
    except RemoteDetectorError as err:
        _LOGGER.info("The detection server failed its check: %s", describe(err))
        return {CONF_REMOTE_URL: "cannot_connect"}
    return {}


DETECTOR_KINDS: dict[str, DetectorKind] = {
    kind.key: kind
    for kind in (
        DetectorKind(key=DETECTOR_MOTION, build=_motion),
        DetectorKind(
            key=DETECTOR_NCNN,
            build=_ncnn,
            # 1.0.20250916 is the first release with cp314 musllinux wheels
            # (x86_64 and aarch64): Home Assistant OS installs it.
            requirements=("ncnn>=1.0.20250916",),
            formats=("ncnn",),
            describe=describe_model_file,
            check_at_start=True,
        ),
        DetectorKind(
            key=DETECTOR_ONNX,
            build=_onnx,
            requirements=("onnxruntime>=1.17.0",),
            formats=("onnx",),
            describe=describe_model_file,
            check_at_start=True,
        ),
        DetectorKind(
            key=DETECTOR_ULTRALYTICS,
            build=_ultralytics,
            fields=lambda: {
                probatio.Required(CONF_IMGSZ, default=HUB_DEFAULTS.imgsz): box(
                    64, 1280, 32
                ),
            },
            requirements=("ultralytics>=8.3.0",),
            formats=("pt", "onnx", "ncnn"),
            describe=_describe_ultralytics,
        ),
        DetectorKind(
            key=DETECTOR_REMOTE,
            build=_remote,
            fields=lambda: {
                probatio.Required(CONF_REMOTE_URL): URL,
                probatio.Optional(CONF_REMOTE_API_KEY): PASSWORD,
            },
            check=async_check_remote,
            credential_fields=(CONF_REMOTE_API_KEY,),
        ),
    )
}
"""Adding a backend: its engine class, then one entry here (and its strings)."""


async def async_install(hass: HomeAssistant, backend: str) -> None:
    """Install the packages a backend needs; raise RequirementsNotFound."""
    kind = DETECTOR_KINDS.get(backend)
    if kind is not None and kind.requirements:
        # pip's options depend on a file check Home Assistant caches: make it
        # off the event loop, before the requirements are processed.
        await hass.async_add_executor_job(is_docker_env)
        await async_process_requirements(hass, DOMAIN, list(kind.requirements))


async def async_build_detector(
    hass: HomeAssistant, entry_id: str, settings: HubSettings
) -> ObjectDetector:
    """The configured detector, or motion detection with a repair issue."""
    kind = DETECTOR_KINDS.get(settings.detector, DETECTOR_KINDS[DETECTOR_MOTION])
    context = BuildContext.of(hass)
    issue_id = f"{ISSUE_REQUIREMENTS_FAILED}_{entry_id}"
    packages = ", ".join(kind.requirements)
    try:
        await async_install(hass, kind.key)
    except RequirementsNotFound as err:
        _LOGGER.error(  # noqa: TRY400 - one line, the repair issue says more
            "Cannot install %s for the %s detector; using motion detection: %s",
            packages,
            kind.key,
            err,
        )
        _issue(
            hass,
            issue_id,
            ISSUE_REQUIREMENTS_FAILED,
            {"backend": kind.key, "packages": packages},
        )
        return _motion(settings, context)
    ir.async_delete_issue(hass, DOMAIN, issue_id)
    model_issue = f"{ISSUE_MODEL_MISSING}_{entry_id}"
    problem = await _model_problem(hass, kind, settings)
    if problem is not None:
        path = settings.model_file(context.config_dir)
        _LOGGER.error(
            "The %s model %s cannot be used (%s); using motion detection",
            kind.key,
            path,
            problem,
        )
        _issue(
            hass,
            model_issue,
            ISSUE_MODEL_MISSING,
            {"backend": kind.key, "path": str(path)},
            fix_data={"entry_id": entry_id},
        )
        return _motion(settings, context)
    ir.async_delete_issue(hass, DOMAIN, model_issue)
    return kind.build(settings, context)


async def _model_problem(
    hass: HomeAssistant, kind: DetectorKind, settings: HubSettings
) -> str | None:
    """Why the backend's model cannot be used at start, or None.

    Models a quick read checks (``check_at_start``) are loaded once here, so a
    damaged one is reported like a missing one; others are only looked for.
    """
    if kind.describe is None:
        return None
    if not await _model_present(hass, settings):
        return "missing"
    if not kind.check_at_start:
        return None
    config_dir = Path(hass.config.config_dir)
    described = await hass.async_add_executor_job(kind.describe, settings, config_dir)
    return described.detail if isinstance(described, ModelProblem) else None


def _issue(
    hass: HomeAssistant,
    issue_id: str,
    key: str,
    placeholders: dict[str, str],
    fix_data: dict[str, str | int | float | None] | None = None,
) -> None:
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=fix_data is not None,
        severity=ir.IssueSeverity.ERROR,
        translation_key=key,
        translation_placeholders=placeholders,
        data=fix_data,
    )
