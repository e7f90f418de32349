"""Folder cameras: clips dropped into a folder (a NAS share, another program)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import BooleanSelector, TextSelector
import probatio

from .. import media_paths
from ..camera_settings import CameraSettings
from ..const import (
    CONF_CAMERA_ID,
    CONF_CREATE_FOLDER,
    CONF_SETTLE_SECONDS,
    CONF_SOURCE_TYPE,
    CONF_WATCH_FOLDER,
    INCOMING_PATH,
    SOURCE_FOLDER,
)
from ..engine.interfaces import ClipSource
from ..engine.sources.folder import FolderSettings, FolderSource
from ..engine.spool import Spool
from ..field_values import source_default
from ..selectors import box
from ..settings import HubSettings
from ..source_checks import (
    folder_error,
    missing_folder_error,
    overlaps,
    readable_here,
)
from .base import CheckContext, SourceKind


def _schema() -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(CONF_WATCH_FOLDER): TextSelector(),
            probatio.Optional(CONF_CREATE_FOLDER): BooleanSelector(),
            probatio.Required(
                CONF_SETTLE_SECONDS,
                default=source_default(FolderSettings, "settle_seconds"),
            ): box(1, 300, 1, "s"),
        }
    )


async def _suggest(hass: HomeAssistant, camera_id: str) -> dict[str, Any]:
    """A folder of its own for a new camera (created unless unticked)."""
    folder = await hass.async_add_executor_job(_suggested_folder, hass, camera_id)
    return {CONF_WATCH_FOLDER: str(folder), CONF_CREATE_FOLDER: True}


def _suggested_folder(hass: HomeAssistant, camera_id: str) -> Path:
    """Under the media folder when Home Assistant may read it, else the config."""
    media = media_paths.MEDIA_DIR
    usable = media.is_dir() and readable_here(hass, media)
    root = media if usable else Path(hass.config.config_dir)
    return root / INCOMING_PATH / camera_id


async def _check(
    hass: HomeAssistant, settings: dict[str, Any], context: CheckContext
) -> dict[str, str]:
    """The folder must be allowed, HomeSec's alone, and there (created if asked)."""
    create = bool(settings.pop(CONF_CREATE_FOLDER, False))  # not stored
    error = await hass.async_add_executor_job(
        _folder_error, hass, Path(settings[CONF_WATCH_FOLDER]), context, create
    )
    return {CONF_WATCH_FOLDER: error} if error else {}


def _folder_error(
    hass: HomeAssistant, folder: Path, context: CheckContext, create: bool
) -> str | None:
    return (
        folder_error(hass, folder)
        or _overlap_error(folder, context, hass.config.config_dir)
        or missing_folder_error(folder, create=create)
    )


def _overlap_error(folder: Path, context: CheckContext, config_dir: str) -> str | None:
    """A watched folder must stay clear of HomeSec's folders and other cameras'.

    HomeSec moves what appears in a watched folder into its spool: watching its
    own folders, or a folder another camera watches, would take clips away.
    """
    hub = HubSettings.from_entry(context.entry)
    if overlaps(folder, hub.own_folders(Path(config_dir)).values()):
        return "folder_overlaps_homesec"
    watched = [
        Path(sub.data[CONF_WATCH_FOLDER])
        for sub in context.entry.subentries.values()
        if sub.data.get(CONF_SOURCE_TYPE) == SOURCE_FOLDER
        and sub.data.get(CONF_CAMERA_ID) != context.camera_id
    ]
    return "folder_overlaps_camera" if overlaps(folder, watched) else None


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


KIND = SourceKind(
    key=SOURCE_FOLDER, schema=_schema, check=_check, build=_build, suggest=_suggest
)
