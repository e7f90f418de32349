"""Typed hub and camera settings, parsed once from the entry (every default here).

Field names are the keys of the config entry's data and options, so a form's
default is ``HUB_DEFAULTS.<key>`` and the flows, the builder, diagnostics and
repairs all read the same values. Source-specific camera settings keep their
defaults in the engine's settings models (``RtspSettings``, ``FtpSettings``...),
read through ``source_default``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .const import (
    ANALYZER_NONE,
    DETECTOR_MOTION,
    FRAMES_PATH,
    FTP_UPLOAD_PATH,
    SNAPSHOTS_PATH,
    SPOOL_PATH,
    STATE_STORE_SQLITE,
    STORAGE_LOCAL,
)
from .engine.analyze.prompt import BASE_PROMPT
from .engine.analyze.schema import DEFAULT_ACTIVITY_TYPES
from .engine.detect.rules import offered_classes
from .engine.models import RiskLevel

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

URGENT_NEVER = "never"
OBJECT_GROUPS = ("person", "vehicle", "animal")
_SECRET = Field(default=None, repr=False)


class HubSettings(BaseModel):
    """The hub: storage, history, detector, analyzer, alerts, retention, MQTT."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    storage_type: str = STORAGE_LOCAL
    storage_path: str = "homesec/clips"
    spool_path: str = SPOOL_PATH
    """Clips waiting or being processed (hubs made before /media: here)."""
    dropbox_root: str = "/HomeSec"
    dropbox_app_key: str | None = None
    dropbox_app_secret: str | None = _SECRET
    dropbox_refresh_token: str | None = _SECRET
    dropbox_access_token: str | None = _SECRET

    state_store: str = STATE_STORE_SQLITE
    sqlite_path: str = "homesec/homesec.db"
    postgres_dsn: str | None = _SECRET

    detector: str = DETECTOR_MOTION
    model_path: str | None = None
    model_classes: tuple[str, ...] = ()
    """The class names of the model, read when it was chosen (empty: COCO)."""
    remote_url: str | None = None
    remote_api_key: str | None = _SECRET
    detect_classes: tuple[str, ...] = OBJECT_GROUPS
    min_confidence: float = 0.5
    min_box_h_ratio: float = 0.0
    min_hits: int = 1
    imgsz: int = 320
    stationary_forget_minutes: float = 15
    live_fps: float = 2.0
    """Frames a second live detection checks per recording camera."""
    live_total_fps: float = 4.0
    """Frames a second live detection checks across all cameras."""
    """A parked object missing this long alerts again when back (0: no tracking)."""

    analyzer: str = ANALYZER_NONE
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: str | None = _SECRET
    openai_model: str = "gpt-4o-mini"
    token_parameter: str = "max_completion_tokens"  # noqa: S105 - a field name
    analysis_timeout: float = 60
    ai_task_entity: str | None = None
    max_frames: int = 4
    daily_calls: int = 200
    daily_tokens: int = 400_000
    cooldown_minutes: float = 0
    base_prompt: str = BASE_PROMPT
    activity_types: tuple[str, ...] = DEFAULT_ACTIVITY_TYPES

    trigger_classes: tuple[str, ...] = OBJECT_GROUPS
    min_risk_level: RiskLevel = RiskLevel.HIGH
    notify_on_activity_types: tuple[str, ...] = ()
    notify_on_motion: bool = False
    notify_entities: tuple[str, ...] = ()
    notify_services: tuple[str, ...] = ()
    phone_urgent_from: str = URGENT_NEVER
    """Risk level from which phone alerts are urgent, or never."""
    phone_urgent_critical: bool = False
    """Urgent phone alerts are critical (through silent mode), not time-sensitive."""

    retention_max_gb: float = 5.0
    retention_max_days: float = 30
    store_max_gb: float = 20.0
    store_max_days: float = 90
    store_alert_days: float = 180
    dropbox_retention: bool = False
    disk_low_gb: float = 3.0
    disk_floor_gb: float = 1.5
    max_attempts: int = 3
    history_max_days: float = 90

    mqtt_topic: str = "homecam/alerts/{camera_name}"
    mqtt_qos: int = 1
    mqtt_retain: bool = False

    @field_validator(
        "dropbox_app_key",
        "dropbox_app_secret",
        "dropbox_refresh_token",
        "dropbox_access_token",
        "postgres_dsn",
        "model_path",
        "remote_url",
        "remote_api_key",
        "openai_api_key",
        "ai_task_entity",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return value or None

    @field_validator("base_prompt", "mqtt_topic", "activity_types", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any, info: ValidationInfo) -> Any:
        return value or cls.model_fields[str(info.field_name)].default

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> HubSettings:
        """Settings from stored data (unknown keys ignored, missing ones default)."""
        return cls.model_validate(dict(data))

    @classmethod
    def from_entry(cls, entry: ConfigEntry[Any]) -> HubSettings:
        """The hub's data with the options flow's changes on top."""
        return cls.from_data(merged(entry))

    @property
    def activities(self) -> list[str]:
        """The activity types the analyzer chooses from (always with ``other``)."""
        types = list(self.activity_types)
        return types if "other" in types else [*types, "other"]

    @property
    def class_choices(self) -> list[str]:
        """The classes a user can choose to detect and to trigger on."""
        return offered_classes(self.model_classes)

    def model_file(self, config_dir: Path) -> Path:
        """The model file (relative paths are under the config dir)."""
        return config_dir / str(self.model_path or "")

    def sqlite_file(self, config_dir: Path) -> Path:
        """The SQLite file of the hub (under the config dir unless absolute)."""
        return config_dir / self.sqlite_path

    def storage_folder(self, config_dir: Path) -> Path:
        """The folder of local storage (under the config dir unless absolute)."""
        return config_dir / self.storage_path

    def spool_folder(self, config_dir: Path) -> Path:
        """The spool (under the config dir unless absolute)."""
        return config_dir / self.spool_path

    def own_folders(self, config_dir: Path) -> dict[str, Path]:
        """HomeSec's own folders: what no watched or storage folder may overlap."""
        folders = {
            "spool": self.spool_folder(config_dir),
            "snapshots": config_dir / SNAPSHOTS_PATH,
            "frames": config_dir / FRAMES_PATH,
            "ftp": config_dir / FTP_UPLOAD_PATH,
        }
        if self.storage_type == STORAGE_LOCAL:
            folders["clips"] = self.storage_folder(config_dir)
        return folders

    @property
    def history_max_age(self) -> timedelta | None:
        """How long clip history is kept (None: for ever)."""
        days = self.history_max_days
        return timedelta(days=days) if days > 0 else None

    @property
    def cooldown(self) -> timedelta:
        """The pause in analyses after a camera's alert."""
        return timedelta(minutes=self.cooldown_minutes)


HUB_DEFAULTS = HubSettings()
"""Every default of the hub, for the forms."""


def merged(entry: ConfigEntry[Any]) -> dict[str, Any]:
    """The one place where an entry's data and options are merged."""
    return {**entry.data, **entry.options}
