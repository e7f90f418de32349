"""Typed camera settings, parsed once from a camera subentry (defaults here)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.util import dt as dt_util
from pydantic import BaseModel, ConfigDict, Field, field_validator

from .const import (
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
    RISK_DEFAULT,
    SOURCE_RTSP,
    SUBENTRY_CAMERA,
)
from .engine.detect.rules import DetectionRules
from .engine.detect.zones import Polygon, PolygonError, Zone, parse_masks, parse_zones
from .engine.models import RiskLevel
from .engine.policy import PolicyOverrides
from .field_values import motion_override, time_of_day

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigSubentry

    from .settings import HubSettings

_LOGGER = logging.getLogger(__name__)

DETECTION_KEYS = (
    CONF_DETECT_CLASSES,
    CONF_MIN_CONFIDENCE,
    CONF_MIN_BOX_H_RATIO,
    CONF_MIN_HITS,
    CONF_NOTIFY_ON_ACTIVITY_TYPES,
    CONF_NOTIFY_ENTITIES,
    CONF_NOTIFY_SERVICES,
)
"""A camera's own detection and notify settings (the hub's where empty)."""


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
            for key in (*DETECTION_KEYS, CONF_REQUIRE_ZONE)
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
