"""Event entities of a HomeSec camera."""

from __future__ import annotations

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeSecConfigEntry
from .const import DETECTION_EVENT_TYPES
from .engine.models import ClipDetected, LifecycleEvent
from .entity import HomeSecCameraEntity, add_camera_entities

PARALLEL_UPDATES = 0

DETECTION_DESCRIPTION = EventEntityDescription(
    key="detection",
    translation_key="detection",
    device_class=EventDeviceClass.MOTION,
    event_types=DETECTION_EVENT_TYPES,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's event entities to its device."""
    add_camera_entities(
        entry.runtime_data,
        async_add_entities,
        lambda runtime, camera: [
            DetectionEventEntity(runtime, camera, DETECTION_DESCRIPTION)
        ],
    )


class DetectionEventEntity(HomeSecCameraEntity, EventEntity):
    """Triggers once per detected class of each clip."""

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if not isinstance(event, ClipDetected):
            return
        for label in event.result.detected_classes:
            if label not in self.event_types:
                continue
            self._trigger_event(
                label,
                {
                    "clip_id": event.clip.clip_id,
                    "confidence": event.result.confidence,
                },
            )
            self.async_write_ha_state()
