"""Event entities of a HomeSec camera."""

from __future__ import annotations

from homeassistant.components.event import (
    EventDeviceClass,
    EventEntity,
    EventEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DETECTION_EVENT_TYPES
from .data import HomeSecConfigEntry
from .engine.models import ClipAlerted, ClipDetected, LifecycleEvent
from .entity import ClipLifecycleEntity, add_camera_entities

PARALLEL_UPDATES = 0
NO_SUMMARY = "no_summary"


def detection_description(detect_classes: tuple[str, ...]) -> EventEntityDescription:
    """The detection event entity; a custom model's classes are event types too."""
    return EventEntityDescription(
        key="detection",
        translation_key="detection",
        device_class=EventDeviceClass.MOTION,
        event_types=list(dict.fromkeys([*DETECTION_EVENT_TYPES, *detect_classes])),
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's event entities to its device."""
    detection = detection_description(entry.runtime_data.settings.detect_classes)
    alert = EventEntityDescription(
        key="alert",
        translation_key="alert",
        event_types=[*entry.runtime_data.settings.activities, NO_SUMMARY],
    )
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: [
            DetectionEventEntity(entry, camera, detection),
            AlertEventEntity(entry, camera, alert),
        ],
    )


class DetectionEventEntity(ClipLifecycleEntity, EventEntity):
    """Triggers once per detected class of each clip (not for parked objects)."""

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if not isinstance(event, ClipDetected) or event.result.stationary:
            return
        for label in event.result.detected_classes:
            if label not in self.event_types:
                continue
            self._trigger_event(
                label,
                {
                    "clip_id": event.clip.clip_id,
                    "confidence": event.result.confidence,
                    "zones": event.result.zones,
                },
            )
            self.async_write_ha_state()


class AlertEventEntity(ClipLifecycleEntity, EventEntity):
    """Triggers for each alert; the event type is the clip's activity."""

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if not isinstance(event, ClipAlerted):
            return
        alert = event.alert
        kind = alert.activity_type if alert.activity_type in self.event_types else None
        self._trigger_event(
            kind or NO_SUMMARY,
            {
                "clip_id": alert.clip_id,
                "risk_level": alert.risk_level,
                "summary": alert.summary,
                "notify_reason": alert.notify_reason,
                "reason": alert.reason,
                "detected_classes": alert.detected_classes,
                "zones": alert.zones,
            },
        )
        self.async_write_ha_state()
