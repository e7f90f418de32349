"""Builds a camera's clip source from its subentry data."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homeassistant.const import CONF_PASSWORD, CONF_PORT, CONF_URL, CONF_USERNAME
from homeassistant.core import HomeAssistant

from .adapters.ha_camera import HaCameraSettings, HaCameraSource
from .const import (
    CONF_ALLOW_ANONYMOUS,
    CONF_BLUR,
    CONF_CAMERA_ENTITY,
    CONF_CLIP_SECONDS,
    CONF_MAX_RECORDING,
    CONF_MAX_UPLOAD_MB,
    CONF_MIN_CHANGED_PCT,
    CONF_PASSIVE_PORTS,
    CONF_PIXEL_THRESHOLD,
    CONF_PRE_ROLL,
    CONF_RTSP_TRANSPORT,
    CONF_SETTLE_SECONDS,
    CONF_STOP_DELAY,
    CONF_SUBSTREAM_URL,
    CONF_TRIGGER_ENTITY,
    CONF_WATCH_FOLDER,
    DEFAULT_FTP_PORT,
    DEFAULT_SETTLE_SECONDS,
    FTP_UPLOAD_PATH,
    SOURCE_FOLDER,
    SOURCE_FTP,
    SOURCE_HA_CAMERA,
    SOURCE_RTSP,
)
from .engine.interfaces import ClipSource
from .engine.sources.folder import FolderSettings, FolderSource
from .engine.sources.ftp import FtpSettings, FtpSource
from .engine.sources.rtsp import RtspSettings, RtspSource
from .engine.sources.stream import with_credentials
from .engine.spool import Spool

RTSP_FIELDS = {
    CONF_RTSP_TRANSPORT: "transport",
    CONF_PIXEL_THRESHOLD: "pixel_threshold",
    CONF_MIN_CHANGED_PCT: "min_changed_pct",
    CONF_BLUR: "blur",
    CONF_PRE_ROLL: "pre_roll_s",
    CONF_STOP_DELAY: "stop_delay_s",
    CONF_MAX_RECORDING: "max_recording_s",
}
HA_CAMERA_FIELDS = {
    CONF_CLIP_SECONDS: "clip_seconds",
    CONF_STOP_DELAY: "stop_delay_s",
    CONF_MAX_RECORDING: "max_recording_s",
}
"""Subentry keys -> settings fields that fall back to the engine's defaults."""


def _given(data: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    return {
        field: data[key] for key, field in fields.items() if data.get(key) is not None
    }


def parse_port_range(text: str | None) -> tuple[int, int] | None:
    """``"60000-60010"`` as (60000, 60010); None for empty; ValueError if bad."""
    if not text or not text.strip():
        return None
    low, sep, high = text.strip().partition("-")
    first = int(low)
    last = int(high) if sep else first
    if not 1024 <= first <= last <= 65535:
        msg = "ports must be 1024-65535, low-high"
        raise ValueError(msg)
    return first, last


def rtsp_settings(data: Mapping[str, Any]) -> RtspSettings:
    """RTSP settings, with the credentials put into the URLs."""
    user, password = data.get(CONF_USERNAME), data.get(CONF_PASSWORD)
    substream = data.get(CONF_SUBSTREAM_URL)
    values: dict[str, Any] = {
        "url": with_credentials(data[CONF_URL], user, password),
        "motion_url": with_credentials(substream, user, password)
        if substream
        else None,
    }
    return RtspSettings.model_validate(values | _given(data, RTSP_FIELDS))


def ftp_settings(data: Mapping[str, Any]) -> FtpSettings:
    """FTP server settings of a camera."""
    return FtpSettings(
        port=int(data.get(CONF_PORT, DEFAULT_FTP_PORT)),
        username=data.get(CONF_USERNAME) or None,
        password=data.get(CONF_PASSWORD) or None,
        allow_anonymous=bool(data.get(CONF_ALLOW_ANONYMOUS, False)),
        passive_ports=parse_port_range(data.get(CONF_PASSIVE_PORTS)),
        max_upload_mb=float(data.get(CONF_MAX_UPLOAD_MB, 200)),
    )


def ha_camera_settings(data: Mapping[str, Any]) -> HaCameraSettings:
    """Which Home Assistant camera and trigger to record."""
    values: dict[str, Any] = {
        "camera_entity": data[CONF_CAMERA_ENTITY],
        "trigger_entity": data.get(CONF_TRIGGER_ENTITY) or None,
    }
    return HaCameraSettings.model_validate(values | _given(data, HA_CAMERA_FIELDS))


def build_source(
    hass: HomeAssistant,
    camera_id: str,
    source_type: str,
    data: Mapping[str, Any],
    spool: Spool,
) -> ClipSource:
    """The clip source for one camera."""
    run = hass.async_add_executor_job
    if source_type == SOURCE_FOLDER:
        settle = float(data.get(CONF_SETTLE_SECONDS, DEFAULT_SETTLE_SECONDS))
        folder = FolderSettings(
            watch_dir=Path(data[CONF_WATCH_FOLDER]),
            settle_seconds=settle,
            poll_seconds=min(1.0, settle / 2),
        )
        return FolderSource(camera_id, folder, spool, run)
    if source_type == SOURCE_RTSP:
        return RtspSource(camera_id, rtsp_settings(data), spool, run)
    if source_type == SOURCE_FTP:
        upload_dir = Path(hass.config.path(FTP_UPLOAD_PATH)) / camera_id
        return FtpSource(camera_id, ftp_settings(data), upload_dir, spool, run)
    if source_type == SOURCE_HA_CAMERA:
        return HaCameraSource(hass, camera_id, ha_camera_settings(data), spool)
    msg = f"unsupported source type {source_type}"
    raise ValueError(msg)
