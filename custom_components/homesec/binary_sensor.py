"""Binary sensors of a HomeSec camera (objects, zones, alert), and the hub's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later

from .camera_settings import CameraSettings
from .const import DETECTION_HOLD_SECONDS
from .data import HomeSecConfigEntry, HomeSecData
from .engine.detect.motion import MOTION
from .engine.detect.rules import group_of
from .engine.models import (
    ClipAlerted,
    ClipDetected,
    ClipFinished,
    ClipStatus,
    Detection,
    LifecycleEvent,
)
from .entity import ClipLifecycleEntity, HomeSecHubEntity, add_camera_entities

PARALLEL_UPDATES = 0


def _detected(label: str) -> Callable[[LifecycleEvent], bool]:
    def check(event: LifecycleEvent) -> bool:
        return (
            isinstance(event, ClipDetected) and label in event.result.detected_classes
        )

    return check


def _alerted(event: LifecycleEvent) -> bool:
    return isinstance(event, ClipAlerted)


@dataclass(frozen=True, kw_only=True)
class HeldBinarySensorDescription(BinarySensorEntityDescription):
    """A camera binary sensor: which lifecycle events turn it on."""

    turns_on: Callable[[LifecycleEvent], bool]


CAMERA_SENSORS = (
    HeldBinarySensorDescription(
        key=MOTION,
        device_class=BinarySensorDeviceClass.MOTION,
        turns_on=_detected(MOTION),
    ),
    *(
        HeldBinarySensorDescription(
            key=label,
            translation_key=label,
            device_class=BinarySensorDeviceClass.OCCUPANCY,
            turns_on=_detected(label),
        )
        for label in ("person", "vehicle", "animal")
    ),
    HeldBinarySensorDescription(
        key="alert",
        translation_key="alert",
        device_class=BinarySensorDeviceClass.SAFETY,
        turns_on=_alerted,
    ),
)


@dataclass(frozen=True, kw_only=True)
class HubBinarySensorDescription(BinarySensorEntityDescription):
    """A hub connectivity sensor."""

    is_on: Callable[[HomeSecData], bool]


HUB_SENSORS = (
    HubBinarySensorDescription(
        key="state_store",
        translation_key="state_store",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on=lambda data: data.health.state_store_reachable,
    ),
    HubBinarySensorDescription(
        key="storage",
        translation_key="storage",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on=lambda data: data.health.storage_reachable,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's binary sensors, and the hub's."""
    async_add_entities(HubBinarySensor(entry, d) for d in HUB_SENSORS)
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: [
            *(HeldBinarySensor(entry, camera, d) for d in CAMERA_SENSORS),
            *(
                ZoneOccupancySensor(entry, camera, zone_description(zone))
                for zone in zone_names(camera)
            ),
        ],
    )


def zones_seen(event: LifecycleEvent, label: str) -> list[str]:
    """The zones where the event's ``label`` objects (or its alert's) stood."""
    if isinstance(event, ClipAlerted):
        return event.alert.zones
    if not isinstance(event, ClipDetected):
        return []
    found = [event.result.best, *event.result.detections]
    return sorted(
        {
            zone
            for det in found
            if det is not None and group_of(det.label) == label
            for zone in det.zones
        }
    )


class _OffAfterHold(ClipLifecycleEntity, BinarySensorEntity):
    """A camera binary sensor that an event turns on and a timer turns off."""

    _attr_is_on = False
    _cancel_off: CALLBACK_TYPE | None = None

    async def async_added_to_hass(self) -> None:
        """Subscribe, and cancel a pending off timer on removal."""
        await super().async_added_to_hass()
        self.async_on_remove(self._cancel_timer)

    @callback
    def _off_later(self) -> None:
        """Turn off after the hold time (a pending timer is replaced)."""
        self._cancel_timer()
        self._cancel_off = async_call_later(
            self.hass, DETECTION_HOLD_SECONDS, self._turn_off
        )

    @callback
    def _turn_off(self, _: datetime) -> None:
        self._cancel_off = None
        self._attr_is_on = False
        self.async_write_ha_state()

    @callback
    def _cancel_timer(self) -> None:
        if self._cancel_off is not None:
            self._cancel_off()
            self._cancel_off = None


class HeldBinarySensor(_OffAfterHold):
    """On when a clip's event matches; off again after a hold time.

    Its ``zones`` attribute: where the objects that turned it on stood.
    """

    entity_description: HeldBinarySensorDescription

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if not self.entity_description.turns_on(event):
            return
        self._off_later()
        self._attr_is_on = True
        self._attr_extra_state_attributes = {
            "zones": zones_seen(event, self.entity_description.key)
        }
        self.async_write_ha_state()


class HubBinarySensor(HomeSecHubEntity, BinarySensorEntity):
    """Whether the state store or the storage can be reached."""

    entity_description: HubBinarySensorDescription

    @property
    def is_on(self) -> bool:
        """Reachable."""
        return self.entity_description.is_on(self._data)

    def _current(self) -> object:
        return self.is_on


def zone_names(camera: CameraSettings) -> list[str]:
    """The names of the camera's zones."""
    return [zone.name for zone in camera.zones]


def zone_description(zone: str) -> BinarySensorEntityDescription:
    """The occupancy sensor of one of a camera's zones."""
    return BinarySensorEntityDescription(
        key=f"zone_{zone}_occupancy",
        translation_key="zone_occupancy",
        translation_placeholders={"zone": zone},
        device_class=BinarySensorDeviceClass.OCCUPANCY,
    )


def _in_zone(detection: Detection, zone: str) -> bool:
    return zone in detection.zones


class ZoneOccupancySensor(_OffAfterHold):
    """On while the camera's latest clip shows an object standing in the zone.

    A parked (stationary) object keeps the zone occupied until a later clip
    shows it gone; an object passing through holds it on for the hold time.
    A newer clip without anything in the zone turns it off; a clip processed
    late (older than the one shown) and a failed detection change nothing.
    """

    _shown_start: datetime | None = None
    _shown_clip: str | None = None

    def __init__(
        self,
        entry: HomeSecConfigEntry,
        camera: CameraSettings,
        description: BinarySensorEntityDescription,
    ) -> None:
        """One zone of ``camera``, named in the description's placeholders."""
        super().__init__(entry, camera, description)
        self._zone = dict(description.translation_placeholders or {})["zone"]

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        clip = event.clip
        if self._shown_start is not None and clip.start_ts < self._shown_start:
            return
        if isinstance(event, ClipDetected):
            inside = [d for d in event.result.detections if _in_zone(d, self._zone)]
        elif (
            isinstance(event, ClipFinished)
            and event.status is ClipStatus.DONE
            and clip.clip_id != self._shown_clip
        ):
            inside = []  # finished without a detection
        else:
            return
        self._shown_start, self._shown_clip = clip.start_ts, clip.clip_id
        self._cancel_timer()
        if inside and not all(d.stationary for d in inside):
            self._off_later()
        self._attr_is_on = bool(inside)
        self.async_write_ha_state()
