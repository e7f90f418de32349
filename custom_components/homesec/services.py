"""HomeSec actions: analyze, reprocess and record clips, clean up, search."""

from __future__ import annotations

from datetime import UTC, datetime
import logging
from pathlib import Path
import secrets
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv, device_registry as dr
import homeassistant.util.dt as dt_util
import probatio

from .clip_access import Refusal, RemoteClip
from .const import DOMAIN, RISK_LEVELS
from .data import HomeSecData
from .engine.errors import AnalysisSkipped, HomeSecError, VideoDecodeError
from .engine.models import Clip, ClipState
from .engine.text import first_line
from .links import clip_path, snapshot_path
from .source_checks import readable_here
from .user_errors import failure, refused, user_error, user_reason

_LOGGER = logging.getLogger(__name__)

MEDIA_PREFIX = "media-source://media_source/"
LIBRARY_PREFIX = "media-source://homesec/clip/"
SEARCH_WINDOW = 5000

ANALYZE_SCHEMA = probatio.Schema(
    {
        probatio.Exclusive("file", "clip"): cv.string,
        probatio.Exclusive("media_content_id", "clip"): cv.string,
        probatio.Optional("camera"): cv.string,
    }
)
REPROCESS_SCHEMA = probatio.Schema({probatio.Required("clip_id"): cv.string})
RECORD_SCHEMA = probatio.Schema(
    {
        probatio.Required("camera"): cv.string,
        probatio.Optional("duration"): probatio.All(
            probatio.Coerce(float), probatio.Range(min=1, max=3600)
        ),
    }
)
CLEANUP_SCHEMA = probatio.Schema({probatio.Optional("dry_run", default=False): bool})
SEARCH_SCHEMA = probatio.Schema(
    {
        probatio.Optional("camera"): cv.string,
        probatio.Optional("start"): cv.datetime,
        probatio.Optional("end"): cv.datetime,
        # A custom model's classes too: any name the hub may report.
        probatio.Optional("detected_class"): probatio.All(
            cv.string, probatio.Length(min=1, max=100)
        ),
        probatio.Optional("min_risk"): probatio.In(RISK_LEVELS),
        probatio.Optional("limit", default=50): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=500)
        ),
    }
)


def _hub(hass: HomeAssistant) -> HomeSecData:
    entries = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        raise user_error("not_loaded")
    data: HomeSecData = entries[0].runtime_data
    return data


def _camera_id(hass: HomeAssistant, hub: HomeSecData, camera: str) -> str:
    """A camera id, given a camera's device id or its camera id."""
    if camera in hub.cameras:
        return camera
    device = dr.async_get(hass).async_get(camera)
    for config in hub.cameras.values():
        if device is not None and (DOMAIN, config.subentry_id) in device.identifiers:
            return config.camera_id
    raise user_error("unknown_camera", camera=camera)


def _media_path(hass: HomeAssistant, media_id: str) -> Path:
    """The file of a ``media-source://media_source/<dir>/<path>`` id (blocking)."""
    if not media_id.startswith(MEDIA_PREFIX):
        raise user_error("unsupported_media", media=media_id)
    folder, _, relative = media_id.removeprefix(MEDIA_PREFIX).partition("/")
    root = hass.config.media_dirs.get(folder)
    if root is None or not relative:
        raise user_error("unsupported_media", media=media_id)
    path = (Path(root) / relative).resolve()
    if not path.is_relative_to(Path(root).resolve()):
        raise user_error("path_not_allowed", path=relative)
    return path


def _readable_file(hass: HomeAssistant, file: str) -> Path:
    """An absolute path Home Assistant may read (blocking: resolves it)."""
    path = Path(file)
    if not path.is_absolute() or not readable_here(hass, path):
        raise user_error("path_not_allowed", path=file)
    return path


async def _clip_file(
    hass: HomeAssistant, hub: HomeSecData, data: dict[str, Any]
) -> Path:
    """The existing file an analyze_clip call names (file, media or library id)."""
    media_id = str(data.get("media_content_id", ""))
    if "file" in data:
        path = await hass.async_add_executor_job(_readable_file, hass, data["file"])
    elif media_id.startswith(LIBRARY_PREFIX):
        clip_id = media_id.removeprefix(LIBRARY_PREFIX)
        found = await hub.clips.async_location(clip_id)
        if found is None:
            raise user_error("unknown_clip", clip=clip_id)
        if isinstance(found, RemoteClip):
            raise user_error("clip_not_local", clip=clip_id)
        path = found
    elif media_id:
        path = await hass.async_add_executor_job(_media_path, hass, media_id)
    else:
        raise user_error("no_clip_given")
    if not await hass.async_add_executor_job(path.is_file):
        raise user_error("file_not_found", path=str(path))
    return path


async def _analyze_clip(call: ServiceCall) -> ServiceResponse:
    """Detect and summarize one file, without alerting; return the result."""
    hass = call.hass
    hub = _hub(hass)
    path = await _clip_file(hass, hub, dict(call.data))
    camera = call.data.get("camera")
    camera_id = _camera_id(hass, hub, camera) if camera else "action"
    clip = Clip(  # an id of its own: folders and links are named after it
        clip_id=f"action_{secrets.token_hex(6)}",
        camera_name=camera_id,
        local_path=path,
        start_ts=dt_util.utcnow(),
        source_type="action",
    )
    try:
        rules = hub.engine.pipeline.rules_for(camera_id)  # the camera's own
        detected = await hub.engine.detector.detect(clip, rules)
    except VideoDecodeError as err:
        _LOGGER.info("Cannot analyze %s: %s", path, first_line(err))
        raise user_error(
            "clip_unreadable", path=path.name, error=user_reason(hass, err)
        ) from err
    except HomeSecError as err:  # the detector is away or answered nonsense
        _LOGGER.warning("The detector could not check %s: %s", path, first_line(err))
        raise failure("detector_failed", error=user_reason(hass, err)) from err
    analysis: dict[str, Any] | None = None
    analysis_error: str | None = None
    if hub.engine.analyzer is not None:
        try:
            result = await hub.engine.analyzer.analyze(clip, detected)
        except AnalysisSkipped as skipped:
            analysis_error = skipped.reason
        except HomeSecError as err:
            analysis_error = first_line(err)  # no server URL with credentials
        else:
            analysis = {
                "risk_level": result.risk_level.value,
                "activity_type": result.activity_type,
                "summary": result.summary,
            }
    response: dict[str, Any] = {
        "detected_classes": detected.detected_classes,
        "confidence": detected.confidence,
        "zones": detected.zones,
        "frames_sampled": detected.frames_sampled,
        "analysis": analysis,
        "analysis_error": analysis_error,
    }
    return response


async def _reprocess_clip(call: ServiceCall) -> None:
    """Run a clip still in the spool through the whole pipeline again."""
    hub = _hub(call.hass)
    result = await hub.clips.async_reprocess(call.data["clip_id"])
    if isinstance(result, Refusal):
        raise refused(result, hub.cameras)


async def _record_clip(call: ServiceCall) -> None:
    """Record a camera now (RTSP and Home Assistant cameras)."""
    hub = _hub(call.hass)
    camera_id = _camera_id(call.hass, hub, call.data["camera"])
    refusal = hub.clips.record_now(camera_id, call.data.get("duration"))
    if refusal is not None:
        raise refused(refusal, hub.cameras)


async def _cleanup(call: ServiceCall) -> ServiceResponse:
    """Apply the spool limits now, or only list what would go."""
    hub = _hub(call.hass)
    plan = await hub.runtime.async_retention(dry_run=call.data["dry_run"])
    if plan.store_unreachable:
        raise failure("state_store_unreachable")
    response: dict[str, Any] = {
        "dry_run": call.data["dry_run"],
        "clips": plan.delete,
        "freed_bytes": plan.freed_bytes,
        "kept_unsafe": plan.kept_unsafe,
    }
    return response


def _matches(state: ClipState, data: dict[str, Any]) -> bool:
    when = state.start_ts
    if "start" in data and (when is None or when < dt_util.as_utc(data["start"])):
        return False
    if "end" in data and (when is None or when > dt_util.as_utc(data["end"])):
        return False
    found = state.filter_result.detected_classes if state.filter_result else []
    if "detected_class" in data and data["detected_class"] not in found:
        return False
    if "min_risk" in data:
        risk = state.analysis.risk_level.value if state.analysis else None
        if risk is None or RISK_LEVELS.index(risk) < RISK_LEVELS.index(
            data["min_risk"]
        ):
            return False
    return True


def _start_order(state: ClipState) -> datetime:
    """When the clip was recorded (a camera's late upload sorts by that)."""
    return state.start_ts or datetime.min.replace(tzinfo=UTC)


def _describe(state: ClipState) -> dict[str, Any]:
    analysis = state.analysis
    return {
        "clip_id": state.clip_id,
        "camera_name": state.camera_name,
        "start": state.start_ts.isoformat() if state.start_ts else None,
        "original_name": state.original_name,
        "status": state.status.value,
        "detected_classes": (
            state.filter_result.detected_classes if state.filter_result else []
        ),
        "risk_level": analysis.risk_level.value if analysis else None,
        "activity_type": analysis.activity_type if analysis else None,
        "summary": analysis.summary if analysis else None,
        "alerted": bool(state.decision and state.decision.notify),
        "storage_uri": state.storage_uri,
        "clip_url": clip_path(state.clip_id),
        "snapshot_url": snapshot_path(state.clip_id) if state.has_snapshot else None,
    }


async def _search_clips(call: ServiceCall) -> ServiceResponse:
    """Clips by camera, time range, detected class and minimum risk, newest first."""
    hub = _hub(call.hass)
    data = dict(call.data)
    for key in ("start", "end"):  # naive: Home Assistant's time zone
        if key in data:
            data[key] = dt_util.as_utc(data[key])
    if "start" in data and "end" in data and data["start"] > data["end"]:
        raise user_error("start_after_end")
    settings = hub.settings
    known = ["motion", *settings.class_choices, *settings.detect_classes]
    if data.get("detected_class", "motion") not in known:
        raise user_error(
            "unknown_class",
            name=data["detected_class"],
            known=", ".join(dict.fromkeys(known)),
        )
    camera = data.get("camera")
    camera_id = _camera_id(call.hass, hub, camera) if camera else None
    states = await hub.engine.repository.recent(camera_id, SEARCH_WINDOW)
    if states is None:
        raise failure("state_store_unreachable")
    matching = sorted(
        (s for s in states if _matches(s, data)), key=_start_order, reverse=True
    )
    found = [_describe(s) for s in matching]
    response: dict[str, Any] = {"clips": found[: data["limit"]]}
    return response


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register HomeSec's actions (once, with the integration)."""
    register = hass.services.async_register
    register(
        DOMAIN, "analyze_clip", _analyze_clip, ANALYZE_SCHEMA, SupportsResponse.ONLY
    )
    register(DOMAIN, "reprocess_clip", _reprocess_clip, REPROCESS_SCHEMA)
    register(DOMAIN, "record_clip", _record_clip, RECORD_SCHEMA)
    register(DOMAIN, "cleanup", _cleanup, CLEANUP_SCHEMA, SupportsResponse.OPTIONAL)
    register(
        DOMAIN, "search_clips", _search_clips, SEARCH_SCHEMA, SupportsResponse.ONLY
    )
