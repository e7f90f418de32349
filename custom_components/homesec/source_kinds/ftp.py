"""FTP cameras: the camera uploads its clips to HomeSec's own FTP server."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from homeassistant.const import CONF_PASSWORD, CONF_PORT, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import BooleanSelector, TextSelector
import probatio

from ..camera_settings import CameraSettings
from ..const import (
    CONF_ALLOW_ANONYMOUS,
    CONF_CAMERA_ID,
    CONF_MAX_UPLOAD_MB,
    CONF_PASSIVE_PORTS,
    CONF_SOURCE_TYPE,
    FTP_UPLOAD_PATH,
    SOURCE_FTP,
)
from ..engine.interfaces import ClipSource
from ..engine.sources.ftp import FtpSettings, FtpSource
from ..engine.spool import Spool
from ..field_values import source_default
from ..selectors import PASSWORD, box
from ..source_checks import port_error
from .base import CheckContext, SourceKind


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


def _schema() -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(
                CONF_PORT, default=source_default(FtpSettings, "port")
            ): box(1, 65535, 1),
            probatio.Optional(CONF_USERNAME): TextSelector(),
            probatio.Optional(CONF_PASSWORD): PASSWORD,
            probatio.Required(
                CONF_ALLOW_ANONYMOUS,
                default=source_default(FtpSettings, "allow_anonymous"),
            ): BooleanSelector(),
            probatio.Optional(CONF_PASSIVE_PORTS): TextSelector(),
            probatio.Required(
                CONF_MAX_UPLOAD_MB,
                default=source_default(FtpSettings, "max_upload_mb"),
            ): box(1, 4096, 1, "MB"),
        }
    )


def ftp_settings(data: Mapping[str, Any]) -> FtpSettings:
    """FTP server settings of a camera."""
    values: dict[str, Any] = {
        "username": data.get(CONF_USERNAME) or None,
        "password": data.get(CONF_PASSWORD) or None,
        "allow_anonymous": bool(data.get(CONF_ALLOW_ANONYMOUS)),
        "passive_ports": parse_port_range(data.get(CONF_PASSIVE_PORTS)),
    }
    for key, field in ((CONF_PORT, "port"), (CONF_MAX_UPLOAD_MB, "max_upload_mb")):
        if data.get(key) is not None:
            values[field] = data[key]
    return FtpSettings.model_validate(values)


async def _check(
    hass: HomeAssistant, settings: dict[str, Any], context: CheckContext
) -> dict[str, str]:
    """An account (or anonymous), passive ports, a port free for this camera."""
    settings[CONF_PORT] = int(settings[CONF_PORT])
    if not settings.get(CONF_ALLOW_ANONYMOUS) and not (
        settings.get(CONF_USERNAME) and settings.get(CONF_PASSWORD)
    ):
        return {"base": "credentials_required"}
    try:
        parse_port_range(settings.get(CONF_PASSIVE_PORTS))
    except ValueError:
        return {CONF_PASSIVE_PORTS: "invalid_port_range"}
    for sub in context.entry.subentries.values():
        if (
            sub.data.get(CONF_SOURCE_TYPE) == SOURCE_FTP
            and sub.data.get(CONF_PORT) == settings[CONF_PORT]
            and sub.data.get(CONF_CAMERA_ID) != context.camera_id
        ):
            return {CONF_PORT: "port_in_use"}
    if settings[CONF_PORT] != context.previous.get(CONF_PORT):
        error = await hass.async_add_executor_job(port_error, settings[CONF_PORT])
        if error:
            return {CONF_PORT: error}
    return {}


def _build(hass: HomeAssistant, camera: CameraSettings, spool: Spool) -> ClipSource:
    upload_dir = Path(hass.config.path(FTP_UPLOAD_PATH)) / camera.camera_id
    return FtpSource(
        camera.camera_id,
        ftp_settings(camera.data),
        upload_dir,
        spool,
        hass.async_add_executor_job,
    )


KIND = SourceKind(
    key=SOURCE_FTP,
    schema=_schema,
    check=_check,
    build=_build,
    secret_fields=(CONF_PASSWORD,),
)
