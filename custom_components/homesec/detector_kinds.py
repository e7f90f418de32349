"""One entry per detector backend: its form, its check, how it is built.

Local model backends are not manifest requirements: their packages are
installed when a hub uses them. ncnn has wheels for Home Assistant OS (musl);
onnxruntime and ultralytics do not. If the install fails, or the model is
missing (or, for ncnn, does not load), a repair issue explains it and the hub
runs on motion detection meanwhile.
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
from homeassistant.helpers.selector import TextSelector
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
from .engine.detect.motion import MotionDetector, MotionSettings
from .engine.detect.ncnn import NcnnDetector, NcnnModel, NcnnSettings
from .engine.detect.onnx import OnnxDetector, OnnxModel, OnnxSettings
from .engine.detect.remote import RemoteDetector, RemoteDetectorError, RemoteSettings
from .engine.detect.rules import DetectionRules
from .engine.detect.ultralytics import (
    UltralyticsDetector,
    UltralyticsSettings,
    load_model,
)
from .engine.errors import CredentialsRejected
from .engine.interfaces import BlockingRunner, ObjectDetector
from .engine.text import describe
from .selectors import PASSWORD, URL, box
from .settings import HUB_DEFAULTS, HubSettings

_LOGGER = logging.getLogger(__name__)

type Check = Callable[[HomeAssistant, HubSettings], Awaitable[dict[str, str]]]


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
    """Its own form fields (the detection rules are added to them)."""
    check: Check | None = None
    """Checks the form's input; None: nothing to check."""
    requirements: tuple[str, ...] = ()
    """Packages installed on demand (not manifest requirements)."""
    load: Callable[[HubSettings, Path], object] | None = None
    """Loads its model once (blocking; raises when it does not load); None:
    the backend has no model."""
    model_exists: Callable[[Path], bool] = Path.is_file
    """Whether something is at the model path (blocking)."""
    load_at_setup: bool = False
    """The model loads in milliseconds: the hub loads it at setup, so a corrupt
    model, not only a missing one, gives the repair issue."""
    credential_fields: tuple[str, ...] = field(default=())
    """The fields a reauthentication asks for when the server refuses them."""


def detection_rules(settings: HubSettings) -> DetectionRules:
    """Which detections count."""
    return DetectionRules(
        classes=frozenset(settings.detect_classes),
        min_confidence=settings.min_confidence,
        min_box_h_ratio=settings.min_box_h_ratio,
        min_hits=settings.min_hits,
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


def _load_ncnn(settings: HubSettings, config_dir: Path) -> object:
    model = ncnn_settings(settings, config_dir)
    return NcnnModel(model.model_path, model.threads, model.imgsz)


def _load_onnx(settings: HubSettings, config_dir: Path) -> object:
    return OnnxModel(settings.model_file(config_dir), threads=1)


def _load_ultralytics(settings: HubSettings, config_dir: Path) -> object:
    return load_model(ultralytics_settings(settings, config_dir))


async def _model_present(
    hass: HomeAssistant, kind: DetectorKind, settings: HubSettings
) -> bool:
    """Whether the configured model exists."""
    path = settings.model_file(Path(hass.config.config_dir))
    return bool(settings.model_path) and await hass.async_add_executor_job(
        kind.model_exists, path
    )


async def _load_error(
    hass: HomeAssistant, kind: DetectorKind, settings: HubSettings
) -> str | None:
    """Why the model does not load; None when it loads."""
    assert kind.load is not None
    config_dir = Path(hass.config.config_dir)
    try:
        await hass.async_add_executor_job(kind.load, settings, config_dir)
    except Exception as err:  # noqa: BLE001 - any load failure is reported
        return str(err) or type(err).__name__
    return None


async def _setup_problem(
    hass: HomeAssistant, kind: DetectorKind, settings: HubSettings
) -> str | None:
    """What is wrong with the model at setup; None when nothing is.

    It is missing, or (when it loads in milliseconds) it does not load.
    """
    if not await _model_present(hass, kind, settings):
        return "is missing"
    if kind.load_at_setup and (error := await _load_error(hass, kind, settings)):
        return f"does not load ({error})"
    return None


async def async_check_model(
    hass: HomeAssistant, settings: HubSettings
) -> dict[str, str]:
    """Install the backend's packages and load the model; return form errors."""
    try:
        await async_install(hass, settings.detector)
    except RequirementsNotFound:
        return {"base": "requirements_failed"}
    kind = DETECTOR_KINDS[settings.detector]
    if not await _model_present(hass, kind, settings):
        return {CONF_MODEL_PATH: "model_not_found"}
    if error := await _load_error(hass, kind, settings):
        name = settings.model_file(Path(hass.config.config_dir)).name
        _LOGGER.warning("The model %s does not load: %s", name, error)
        return {CONF_MODEL_PATH: "model_invalid"}
    return {}


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


def _model_field() -> dict[Any, Any]:
    return {probatio.Required(CONF_MODEL_PATH): TextSelector()}


DETECTOR_KINDS: dict[str, DetectorKind] = {
    kind.key: kind
    for kind in (
        DetectorKind(key=DETECTOR_MOTION, build=_motion),
        DetectorKind(
            key=DETECTOR_NCNN,
            build=_ncnn,
            fields=_model_field,
            check=async_check_model,
            # 1.0.20250916 is the first release with cp314 musllinux wheels
            # (x86_64 and aarch64): Home Assistant OS installs it.
            requirements=("ncnn>=1.0.20250916",),
            load=_load_ncnn,
            model_exists=Path.exists,
            load_at_setup=True,
        ),
        DetectorKind(
            key=DETECTOR_ONNX,
            build=_onnx,
            fields=_model_field,
            check=async_check_model,
            requirements=("onnxruntime>=1.17.0",),
            load=_load_onnx,
        ),
        DetectorKind(
            key=DETECTOR_ULTRALYTICS,
            build=_ultralytics,
            fields=lambda: {
                probatio.Required(CONF_MODEL_PATH): TextSelector(),
                probatio.Required(CONF_IMGSZ, default=HUB_DEFAULTS.imgsz): box(
                    64, 1280, 32
                ),
            },
            check=async_check_model,
            requirements=("ultralytics>=8.3.0",),
            load=_load_ultralytics,
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
    problem = None if kind.load is None else await _setup_problem(hass, kind, settings)
    if problem is not None:
        path = settings.model_file(context.config_dir)
        _LOGGER.error(
            "The %s model %s %s; using motion detection", kind.key, path, problem
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
