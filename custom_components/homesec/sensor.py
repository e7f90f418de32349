"""Sensors of a HomeSec camera (last clip, summary, risk, counts) and of the hub."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from homeassistant.components.sensor import (
    RestoreSensor,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfInformation
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_change
from homeassistant.util import dt as dt_util

from .const import DETECTOR_MOTION
from .data import HomeSecConfigEntry, HomeSecData
from .engine.detect.rules import group_of
from .engine.models import (
    ClipAlerted,
    ClipDetected,
    ClipFinished,
    ClipStatus,
    FilterResult,
    LifecycleEvent,
    RiskLevel,
)
from .entity import ClipLifecycleEntity, HomeSecHubEntity, add_camera_entities
from .hub_health import HealthStatus
from .settings import OBJECT_GROUPS, HubSettings

PARALLEL_UPDATES = 0
MAX_STATE_LENGTH = 255
LAST_CLIP_ATTRIBUTES = ("clip_id", "original_name")


@dataclass(frozen=True, kw_only=True)
class CameraSensorDescription(SensorEntityDescription):
    """A camera sensor: the value a lifecycle event gives it (None: no change)."""

    value: Callable[[LifecycleEvent], Any]


def _summary(event: LifecycleEvent) -> str | None:
    if isinstance(event, ClipAlerted) and event.alert.summary:
        return event.alert.summary[:MAX_STATE_LENGTH]
    return None


def _risk(event: LifecycleEvent) -> str | None:
    if isinstance(event, ClipAlerted) and event.alert.risk_level is not None:
        return event.alert.risk_level.value
    return None


def _activity(event: LifecycleEvent) -> str | None:
    if isinstance(event, ClipAlerted) and event.alert.activity_type:
        return event.alert.activity_type
    return None


CAMERA_SENSORS = (
    CameraSensorDescription(
        key="last_summary", translation_key="last_summary", value=_summary
    ),
    CameraSensorDescription(
        key="last_risk_level",
        translation_key="last_risk_level",
        device_class=SensorDeviceClass.ENUM,
        options=[level.value for level in RiskLevel],
        value=_risk,
    ),
    CameraSensorDescription(
        key="last_activity", translation_key="last_activity", value=_activity
    ),
)

LAST_CLIP = SensorEntityDescription(
    key="last_clip",
    translation_key="last_clip",
    device_class=SensorDeviceClass.TIMESTAMP,
)

CLIPS_TODAY = SensorEntityDescription(
    key="clips_today",
    translation_key="clips_today",
    state_class=SensorStateClass.TOTAL,
)


@dataclass(frozen=True, kw_only=True)
class HubSensorDescription(SensorEntityDescription):
    """A hub sensor read from the hub's collaborators."""

    value: Callable[[HomeSecData], Any]
    attributes: Callable[[HomeSecData], dict[str, Any]] | None = None


HUB_SENSORS = (
    HubSensorDescription(
        key="status",
        translation_key="status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in HealthStatus],
        value=lambda data: data.health.health().status.value,
        attributes=lambda data: data.health.health().checks,
    ),
    HubSensorDescription(
        key="clips_in_flight",
        translation_key="clips_in_flight",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value=lambda data: data.engine.pipeline.in_flight,
    ),
    HubSensorDescription(
        key="analyzer_calls_today",
        translation_key="analyzer_calls_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value=lambda data: data.engine.budget.calls,
    ),
    HubSensorDescription(
        key="analyzer_tokens_today",
        translation_key="analyzer_tokens_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value=lambda data: data.engine.budget.tokens,
    ),
    HubSensorDescription(
        key="analyzer_cost_today",
        translation_key="analyzer_cost_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value=lambda data: data.engine.budget.cost,
    ),
    *(
        HubSensorDescription(
            key=key,
            translation_key=key,
            device_class=SensorDeviceClass.DATA_SIZE,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfInformation.BYTES,
            suggested_unit_of_measurement=UnitOfInformation.GIGABYTES,
            suggested_display_precision=2,
            entity_category=EntityCategory.DIAGNOSTIC,
            value=value,
        )
        for key, value in (
            ("spool_size", lambda d: d.runtime.housekeeping.figures.spool_bytes),
            ("clip_store_size", lambda d: d.runtime.housekeeping.figures.store_bytes),
            ("free_disk_space", lambda d: d.runtime.housekeeping.figures.free_bytes),
        )
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's sensors, and the hub's."""
    async_add_entities(HubSensor(entry, d) for d in HUB_SENSORS)
    counts = count_descriptions(entry.runtime_data.settings)
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: [
            *(CameraSensor(entry, camera, d) for d in CAMERA_SENSORS),
            LastClipSensor(entry, camera, LAST_CLIP),
            ClipsTodaySensor(entry, camera, CLIPS_TODAY),
            *(ObjectCountSensor(entry, camera, d) for d in counts),
        ],
    )


class CameraSensor(ClipLifecycleEntity, RestoreSensor):
    """Keeps the latest value the camera's clips gave it (restored at start)."""

    entity_description: CameraSensorDescription

    async def async_added_to_hass(self) -> None:
        """Restore the last value, then subscribe."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_sensor_data()) is not None:
            self._attr_native_value = last.native_value

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        value = self.entity_description.value(event)
        if value is not None:
            self._attr_native_value = value
            if isinstance(event, ClipAlerted):
                self._attr_extra_state_attributes = {"zones": event.alert.zones}
            self.async_write_ha_state()


class LastClipSensor(ClipLifecycleEntity, RestoreSensor):
    """When the camera's newest processed clip started, and which clip it is.

    Clips can finish out of order (a late upload, a clip processed again): an
    older clip does not move it back, and a clip whose processing failed does
    not move it at all. Its attributes name the clip and, for folder and FTP
    cameras, the file's original name.
    """

    async def async_added_to_hass(self) -> None:
        """Restore the last clip shown, then subscribe."""
        await super().async_added_to_hass()
        data = await self.async_get_last_sensor_data()
        last = await self.async_get_last_state()
        if data is not None:
            value = data.native_value
            if isinstance(value, str):
                value = dt_util.parse_datetime(value)
            self._attr_native_value = value if isinstance(value, datetime) else None
        if last is not None:
            self._attr_extra_state_attributes = {
                key: last.attributes[key]
                for key in LAST_CLIP_ATTRIBUTES
                if key in last.attributes
            }

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if not isinstance(event, ClipFinished) or event.status is not ClipStatus.DONE:
            return
        clip = event.clip
        shown = self._attr_native_value
        if isinstance(shown, datetime) and clip.start_ts < shown:
            return
        self._attr_native_value = clip.start_ts
        self._attr_extra_state_attributes = {"clip_id": clip.clip_id}
        if clip.original_name:
            self._attr_extra_state_attributes["original_name"] = clip.original_name
        self.async_write_ha_state()


class ClipsTodaySensor(ClipLifecycleEntity, RestoreSensor):
    """Clips of this camera processed since local midnight.

    A total with ``last_reset`` at local midnight (for statistics): it drops to
    0 at midnight, and a reload or restart on the same day keeps the count.
    """

    _attr_native_value = 0
    _day: date | None = None

    async def async_added_to_hass(self) -> None:
        """Restore today's count, then reset at every local midnight."""
        await super().async_added_to_hass()
        self._day = dt_util.now().date()
        last = await self.async_get_last_state()
        data = await self.async_get_last_sensor_data()
        if last is not None and data is not None:
            reset = dt_util.parse_datetime(str(last.attributes.get("last_reset")))
            if reset is not None and dt_util.as_local(reset).date() == self._day:
                self._attr_native_value = int(data.native_value or 0)  # type: ignore[arg-type]
        self.async_on_remove(
            async_track_time_change(
                self.hass, self._midnight, hour=0, minute=0, second=0
            )
        )

    @property
    def last_reset(self) -> datetime | None:
        """Local midnight of the day counted."""
        day = self._day or dt_util.now().date()
        return dt_util.start_of_local_day(day)

    @callback
    def _midnight(self, now: datetime) -> None:
        self._new_day(dt_util.as_local(now).date())
        self.async_write_ha_state()

    def _new_day(self, today: date) -> None:
        if self._day != today:
            self._day = today
            self._attr_native_value = 0

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if not isinstance(event, ClipFinished):
            return
        self._new_day(dt_util.now().date())
        self._attr_native_value = int(self._attr_native_value or 0) + 1
        self.async_write_ha_state()


class HubSensor(HomeSecHubEntity, SensorEntity):
    """A figure of the hub, written when it changes."""

    entity_description: HubSensorDescription

    @property
    def native_value(self) -> Any:
        """The current value."""
        return self.entity_description.value(self._data)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The checks behind the status."""
        if self.entity_description.attributes is None:
            return None
        return self.entity_description.attributes(self._data)

    def _current(self) -> object:
        return (self.native_value, self.extra_state_attributes)


@dataclass(frozen=True, kw_only=True)
class CountSensorDescription(SensorEntityDescription):
    """A camera's count of one kind of object."""

    label: str


def count_descriptions(settings: HubSettings) -> list[CountSensorDescription]:
    """A count per object the hub detects (groups, or the model's own labels)."""
    if settings.detector == DETECTOR_MOTION:
        return []
    return [
        CountSensorDescription(
            key=f"{label}_count",
            label=label,
            translation_key=f"{label}_count" if label in OBJECT_GROUPS else "count",
            translation_placeholders=(
                None if label in OBJECT_GROUPS else {"label": label}
            ),
            state_class=SensorStateClass.MEASUREMENT,
        )
        for label in dict.fromkeys(settings.detect_classes)
    ]


def count_of(label: str, result: FilterResult) -> int:
    """How many ``label`` objects (or members of its group) the clip showed.

    Parked ones count too. A class reported without boxes counts as one.
    """
    boxes = sum(
        1 for det in result.detections if label in (det.label, group_of(det.label))
    )
    return boxes or int(label in result.detected_classes)


class ObjectCountSensor(ClipLifecycleEntity, RestoreSensor):
    """How many of one kind of object the camera's latest clip showed.

    A clip that finished without a detection counts 0; a clip older than the
    one shown (processed late) and a failed detection change nothing.
    """

    entity_description: CountSensorDescription
    _attr_native_value = 0
    _shown_start: datetime | None = None
    _shown_clip: str | None = None

    async def async_added_to_hass(self) -> None:
        """Restore the last count, then subscribe."""
        await super().async_added_to_hass()
        last = await self.async_get_last_sensor_data()
        if last is not None and isinstance(last.native_value, int | float):
            self._attr_native_value = int(last.native_value)

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        clip = event.clip
        if self._shown_start is not None and clip.start_ts < self._shown_start:
            return
        if isinstance(event, ClipDetected):
            value = count_of(self.entity_description.label, event.result)
        elif (
            isinstance(event, ClipFinished)
            and event.status is ClipStatus.DONE
            and clip.clip_id != self._shown_clip
        ):
            value = 0  # finished without a detection
        else:
            return
        self._shown_start, self._shown_clip = clip.start_ts, clip.clip_id
        self._attr_native_value = value
        self.async_write_ha_state()
