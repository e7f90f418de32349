"""What every source kind says about itself: form, check, build, capabilities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
import probatio
from pydantic import BaseModel

from ..camera_settings import CameraSettings
from ..engine.interfaces import ClipSource
from ..engine.spool import Spool
from ..field_values import source_default


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Where a camera's settings are checked: its hub, its id, its saved data."""

    entry: ConfigEntry
    camera_id: str
    previous: Mapping[str, Any]


type Check = Callable[
    [HomeAssistant, dict[str, Any], CheckContext], Awaitable[dict[str, str]]
]
type Build = Callable[[HomeAssistant, CameraSettings, Spool], ClipSource]
type Suggest = Callable[[HomeAssistant, str], Awaitable[dict[str, Any]]]
type StreamSource = Callable[[HomeAssistant, CameraSettings], Awaitable[str | None]]
type LiveImage = Callable[
    [HomeAssistant, CameraSettings, int | None], Awaitable[bytes | None]
]


@dataclass(frozen=True, kw_only=True)
class SourceKind:
    """Where a camera's clips come from (rtsp, ftp, folder, ha_camera...)."""

    key: str
    schema: Callable[[], probatio.Schema]
    """The form of the kind's own settings (its flow step is named ``key``)."""
    check: Check
    """Checks (and tidies) the form's input; returns form errors."""
    build: Build
    """The engine source of a camera of this kind."""
    stream_source: StreamSource | None = None
    """The live stream's URL, for kinds that stream."""
    live_image: LiveImage | None = None
    """A live still picture, for kinds that have one (else the last clip's)."""
    can_record: bool = False
    """Whether a recording can be started on demand."""
    secret_fields: tuple[str, ...] = ()
    """Never shown back in the form; left empty, the stored value is kept."""
    suggest: Suggest | None = None
    """Values offered to a new camera (by its camera id), for kinds that have any."""


def defaulted(
    key: str, model: type[BaseModel], fields: Mapping[str, str]
) -> probatio.Required:
    """A required form field whose default is the engine model's own."""
    return probatio.Required(key, default=source_default(model, fields[key]))


def given(data: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """Subentry keys -> settings fields, for the keys that have a value."""
    return {
        field: data[key] for key, field in fields.items() if data.get(key) is not None
    }
