"""Each camera's picture: its live stream where it has one, else its last clip."""

from __future__ import annotations

from homeassistant.components.camera import Camera, CameraEntityDescription
from homeassistant.components.camera.const import CameraEntityFeature
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .camera_settings import CameraSettings
from .data import HomeSecConfigEntry
from .engine.detect.frames import still_jpeg
from .engine.errors import VideoDecodeError
from .engine.models import ClipQueued, LifecycleEvent
from .entity import ClipLifecycleEntity, add_camera_entities
from .source_kinds import SOURCE_KINDS

PARALLEL_UPDATES = 0

PICTURE = CameraEntityDescription(key="picture", translation_key="picture", name=None)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's picture."""
    add_camera_entities(
        entry, async_add_entities, lambda camera: [HomeSecCamera(entry, camera)]
    )


class HomeSecCamera(ClipLifecycleEntity, Camera):
    """Cameras that stream show it live; every camera shows its last clip.

    The still image is the live camera's own snapshot where its kind has one,
    else the first frame of its last clip (the newest by start, not a failed one).
    """

    def __init__(self, entry: HomeSecConfigEntry, camera: CameraSettings) -> None:
        """Stream where the camera's kind streams."""
        ClipLifecycleEntity.__init__(self, entry, camera, PICTURE)
        Camera.__init__(self)
        self._kind = SOURCE_KINDS[camera.source_type]
        if self._kind.stream_source is not None:
            self._attr_supported_features = CameraEntityFeature.STREAM
        self._still: tuple[str, bytes] | None = None

    async def stream_source(self) -> str | None:
        """The live stream's URL (with its credentials), if the camera has one."""
        if self._kind.stream_source is None:
            return None
        return await self._kind.stream_source(self.hass, self._camera)

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The camera's live still where it has one, else the last clip's."""
        if self._kind.live_image is not None:
            image = await self._kind.live_image(self.hass, self._camera, width)
            if image is not None:
                return image
        return await self._last_clip_still()

    async def _last_clip_still(self) -> bytes | None:
        clip = await self._data.clips.async_last_clip(self._camera.camera_id)
        if clip is None:
            return None
        if self._still is not None and self._still[0] == clip.clip_id:
            return self._still[1]
        try:
            jpeg = await self.hass.async_add_executor_job(still_jpeg, clip.local_path)
        except VideoDecodeError, OSError:
            return self._still[1] if self._still else None
        self._still = (clip.clip_id, jpeg)
        return jpeg

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        if isinstance(event, ClipQueued):
            self.async_write_ha_state()
