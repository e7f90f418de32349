"""Folder cameras: clips dropped into a folder (a NAS share, another program)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import TextSelector
import probatio

from ..const import CONF_SETTLE_SECONDS, CONF_WATCH_FOLDER, SOURCE_FOLDER
from ..engine.interfaces import ClipSource
from ..engine.sources.folder import FolderSettings, FolderSource
from ..engine.spool import Spool
from ..selectors import box
from ..settings import CameraSettings, source_default
from ..source_checks import folder_error
from .base import CheckContext, SourceKind


def _schema() -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(CONF_WATCH_FOLDER): TextSelector(),
            probatio.Required(
                CONF_SETTLE_SECONDS,
                default=source_default(FolderSettings, "settle_seconds"),
            ): box(1, 300, 1, "s"),
        }
    )


async def _check(
    hass: HomeAssistant, settings: dict[str, Any], context: CheckContext
) -> dict[str, str]:
    error = await hass.async_add_executor_job(
        folder_error, hass, settings[CONF_WATCH_FOLDER]
    )
    return {CONF_WATCH_FOLDER: error} if error else {}


def _build(hass: HomeAssistant, camera: CameraSettings, spool: Spool) -> ClipSource:
    data = camera.data
    settle = float(
        data.get(CONF_SETTLE_SECONDS)
        or source_default(FolderSettings, "settle_seconds")
    )
    folder = FolderSettings(
        watch_dir=Path(data[CONF_WATCH_FOLDER]),
        settle_seconds=settle,
        poll_seconds=min(1.0, settle / 2),
    )
    return FolderSource(camera.camera_id, folder, spool, hass.async_add_executor_job)


KIND = SourceKind(key=SOURCE_FOLDER, schema=_schema, check=_check, build=_build)
