"""Binary sensors of a HomeSec camera."""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later

from . import HomeSecConfigEntry
from .const import DETECTION_HOLD_SECONDS
from .engine.detect.motion import MOTION
from .engine.models import ClipDetected, LifecycleEvent
from .entity import HomeSecCameraEntity, add_camera_entities

PARALLEL_UPDATES = 0

MOTION_DESCRIPTION = BinarySensorEntityDescription(
    key=MOTION, device_class=BinarySensorDeviceClass.MOTION
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's binary sensors to its device."""
    add_camera_entities(
        entry.runtime_data,
        async_add_entities,
        lambda runtime, camera: [
            DetectionBinarySensor(runtime, camera, MOTION_DESCRIPTION)
        ],
    )


class DetectionBinarySensor(HomeSecCameraEntity, BinarySensorEntity):
    """On while a recent clip had the sensor's class; off after a hold time."""

    _attr_is_on = False
    _cancel_off: CALLBACK_TYPE | None = None

    async def async_added_to_hass(self) -> None:
        """Subscribe, and cancel a pending off timer on removal."""
        await super().async_added_to_hass()
        self.async_on_remove(self._cancel_timer)

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if not isinstance(event, ClipDetected):
            return
        if self.entity_description.key not in event.result.detected_classes:
            return
        self._cancel_timer()
        self._cancel_off = async_call_later(
            self.hass, DETECTION_HOLD_SECONDS, self._turn_off
        )
        self._attr_is_on = True
        self.async_write_ha_state()

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
