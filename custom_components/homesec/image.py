"""The last annotated detection snapshot of each camera."""

from __future__ import annotations

from homeassistant.components.image import ImageEntity, ImageEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .camera_settings import CameraSettings
from .data import HomeSecConfigEntry
from .engine.models import ClipDetected, LifecycleEvent
from .entity import ClipLifecycleEntity, add_camera_entities

PARALLEL_UPDATES = 0

SNAPSHOT = ImageEntityDescription(key="snapshot", translation_key="snapshot")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's snapshot image."""
    add_camera_entities(
        entry, async_add_entities, lambda camera: [SnapshotImage(hass, entry, camera)]
    )


class SnapshotImage(ClipLifecycleEntity, ImageEntity):
    """The best frame of the last clip with a detection, boxes drawn."""

    _attr_content_type = "image/jpeg"

    def __init__(
        self, hass: HomeAssistant, entry: HomeSecConfigEntry, camera: CameraSettings
    ) -> None:
        """Start without an image."""
        ClipLifecycleEntity.__init__(self, entry, camera, SNAPSHOT)
        ImageEntity.__init__(self, hass)
        self._jpeg: bytes | None = None

    async def async_image(self) -> bytes | None:
        """The JPEG bytes."""
        return self._jpeg

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if isinstance(event, ClipDetected) and event.result.snapshot_jpeg:
            self._jpeg = event.result.snapshot_jpeg
            self._attr_image_last_updated = dt_util.utcnow()
            self.async_write_ha_state()
