"""Typed hub and camera settings, parsed once from the entry (every default here).

Field names are the keys of the config entry's data and options, so a form's
default is ``HUB_DEFAULTS.<key>`` and the flows, the builder, diagnostics and
repairs all read the same values. Source-specific camera settings keep their
defaults in the engine's settings models (``RtspSettings``, ``FtpSettings``...),
read through ``source_default``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .const import (
    ANALYZER_NONE,
    CONF_CAMERA_ID,
    CONF_DETECT_CLASSES,
    CONF_ENABLED,
    CONF_LIVE_DETECTION,
    CONF_MASKS,
    CONF_MIN_BOX_H_RATIO,
    CONF_MIN_CONFIDENCE,
    CONF_MIN_HITS,
    CONF_MIN_RISK_OVERRIDE,
    CONF_NOTIFY_ENTITIES,
    CONF_NOTIFY_ON_ACTIVITY_TYPES,
    CONF_NOTIFY_ON_MOTION,
    CONF_NOTIFY_SERVICES,
    CONF_PROMPT_CONTEXT,
    CONF_QUIET_END,
    CONF_QUIET_START,
    CONF_REQUIRE_ZONE,
    CONF_SOURCE_TYPE,
    CONF_ZONES,
    DETECTOR_MOTION,
    FRAMES_PATH,
    FTP_UPLOAD_PATH,
    RISK_DEFAULT,
    SNAPSHOTS_PATH,
    SOURCE_RTSP,
    SPOOL_PATH,
    STATE_STORE_SQLITE,
    STORAGE_LOCAL,
    SUBENTRY_CAMERA,
)
from .engine.analyze.prompt import BASE_PROMPT
from .engine.analyze.schema import DEFAULT_ACTIVITY_TYPES
from .engine.detect.rules import DetectionRules, offered_classes
from .engine.detect.zones import Polygon, PolygonError, Zone, parse_masks, parse_zones
from .engine.models import RiskLevel
from .engine.policy import PolicyOverrides
from .field_values import motion_override, time_of_day

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigSubentry

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


def live_detection_default(source_type: str) -> bool:
    """Whether a camera of ``source_type`` has live detection unless told not."""
    return source_type == SOURCE_RTSP


class CameraSettings(BaseModel):
    """One camera's common settings; ``data`` holds its source kind's fields."""

    model_config = ConfigDict(frozen=True)

    subentry_id: str
    camera_id: str
    title: str
    source_type: str
    enabled: bool = True
    notify_on_motion: bool | None = None
    """Alert on any detection; None: as the hub."""
    min_risk_override: str = RISK_DEFAULT
    prompt_context: str = ""
    quiet_start: time | None = None
    quiet_end: time | None = None
    detect_classes: tuple[str, ...] = ()
    """Objects to detect; empty: the hub's."""
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    """None here and below: the hub's value."""
    min_box_h_ratio: float | None = Field(default=None, ge=0, le=1)
    min_hits: int | None = Field(default=None, ge=1)
    notify_on_activity_types: tuple[str, ...] = ()
    """Activities that alert; empty: the hub's."""
    notify_entities: tuple[str, ...] = ()
    """Where its alerts go; with no services either, the hub's targets."""
    notify_services: tuple[str, ...] = ()
    zones: tuple[Zone, ...] = ()
    masks: tuple[Polygon, ...] = ()
    require_zone: bool = False
    """Only objects standing in one of ``zones`` alert."""
    data: Mapping[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def live_detection(self) -> bool:
        """Whether its stream is checked for objects while it records (if it can).

        On by default for RTSP cameras, off for Home Assistant cameras (their
        keyframes are decoded for it: a cost the user chooses).
        """
        default = live_detection_default(self.source_type)
        return bool(self.data.get(CONF_LIVE_DETECTION, default))

    @field_validator("quiet_start", "quiet_end", mode="before")
    @classmethod
    def _time_of_day(cls, value: Any) -> time | None:
        return time_of_day(value)

    @field_validator("notify_on_motion", mode="before")
    @classmethod
    def _motion(cls, value: Any) -> bool | None:
        return motion_override(value)

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> CameraSettings:
        """Read a camera subentry."""
        data = dict(subentry.data)
        common = {
            key: data[key]
            for key in (
                CONF_ENABLED,
                CONF_NOTIFY_ON_MOTION,
                CONF_MIN_RISK_OVERRIDE,
                CONF_PROMPT_CONTEXT,
                CONF_QUIET_START,
                CONF_QUIET_END,
            )
            if data.get(key) is not None
        }
        own = {
            key: data[key]
            for key in (
                CONF_DETECT_CLASSES,
                CONF_MIN_CONFIDENCE,
                CONF_MIN_BOX_H_RATIO,
                CONF_MIN_HITS,
                CONF_NOTIFY_ON_ACTIVITY_TYPES,
                CONF_NOTIFY_ENTITIES,
                CONF_NOTIFY_SERVICES,
                CONF_REQUIRE_ZONE,
            )
            if data.get(key) not in (None, "")
        }
        return cls(
            subentry_id=subentry.subentry_id,
            camera_id=data[CONF_CAMERA_ID],
            title=subentry.title,
            source_type=data[CONF_SOURCE_TYPE],
            data=data,
            **common,
            **own,
            **_areas(subentry.title, data),
        )

    def detection_rules(self, hub: DetectionRules) -> DetectionRules:
        """The camera's rules: its own values, the hub's where it has none."""
        own: dict[str, Any] = {
            "masks": self.masks,
            "zones": self.zones,
            "min_confidence": self.min_confidence,
            "min_box_h_ratio": self.min_box_h_ratio,
            "min_hits": self.min_hits,
        }
        if self.detect_classes:
            own["classes"] = frozenset(self.detect_classes)
        return hub.model_copy(
            update={key: value for key, value in own.items() if value is not None}
        )

    def policy_overrides(self) -> PolicyOverrides:
        """The camera's alert rules that differ from the hub's."""
        activities = self.notify_on_activity_types
        return PolicyOverrides(
            notify_on_motion=self.notify_on_motion,
            min_risk_level=self.min_risk,
            notify_on_activity_types=frozenset(activities) if activities else None,
            require_zone=self.require_zone and bool(self.zones),
        )

    def notify_targets(
        self, hub: HubSettings
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Its notify entities and services (the hub's when it has none)."""
        if self.notify_entities or self.notify_services:
            return self.notify_entities, self.notify_services
        return hub.notify_entities, hub.notify_services

    @property
    def min_risk(self) -> RiskLevel | None:
        """The camera's own minimum risk, or None to follow the hub."""
        if self.min_risk_override == RISK_DEFAULT:
            return None
        return RiskLevel(self.min_risk_override)

    def in_quiet_hours(self, now: datetime | time) -> bool:
        """Whether ``now`` is within the quiet hours (they may span midnight).

        An aware ``now`` is read in Home Assistant's time zone; a naive one, or a
        time of day, as local wall-clock time. Equal start and end: no quiet hours.
        """
        begin, finish = self.quiet_start, self.quiet_end
        if begin is None or finish is None or begin == finish:
            return False
        if isinstance(now, datetime):
            now = dt_util.as_local(now).time() if now.tzinfo else now.time()
        now = now.replace(tzinfo=None, microsecond=0)
        if begin < finish:
            return begin <= now < finish
        return now >= begin or now < finish


def _areas(title: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The stored zones and masks (the form checked them; bad ones are dropped)."""
    areas: dict[str, Any] = {}
    for key, parse in ((CONF_ZONES, parse_zones), (CONF_MASKS, parse_masks)):
        try:
            areas[key] = parse(str(data.get(key) or ""))
        except PolygonError as err:
            _LOGGER.warning("The %s of %s are ignored: %s", key, title, err)
    return areas


CAMERA_DEFAULTS = CameraSettings(subentry_id="", camera_id="", title="", source_type="")
"""Defaults of a camera's common settings, for the forms."""


def cameras_of(entry: ConfigEntry[Any]) -> dict[str, CameraSettings]:
    """The entry's cameras by camera id."""
    return {
        camera.camera_id: camera
        for camera in (
            CameraSettings.from_subentry(subentry)
            for subentry in entry.subentries.values()
            if subentry.subentry_type == SUBENTRY_CAMERA
        )
    }
