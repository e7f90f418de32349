"""Each camera's picture: its live stream where it has one, else its last clip."""

from __future__ import annotations

from homeassistant.components.camera import (
    Camera,
    CameraEntityDescription,
    async_get_image,
    async_get_stream_source,
)
from homeassistant.components.camera.const import CameraEntityFeature
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeSecConfigEntry
from .const import CONF_CAMERA_ENTITY, SOURCE_HA_CAMERA, SOURCE_RTSP
from .engine.detect.frames import still_jpeg
from .engine.errors import VideoDecodeError
from .engine.models import ClipQueued, LifecycleEvent
from .entity import HomeSecCameraEntity, add_camera_entities
from .runtime import CameraConfig, HomeSecRuntime
from .source_setup import rtsp_settings

PARALLEL_UPDATES = 0

PICTURE = CameraEntityDescription(key="picture", translation_key="picture", name=None)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's picture."""
    add_camera_entities(
        entry.runtime_data,
        async_add_entities,
        lambda runtime, camera: [HomeSecCamera(runtime, camera)],
    )


class HomeSecCamera(HomeSecCameraEntity, Camera):
    """RTSP and Home Assistant cameras stream live; every camera shows its last clip.

    The still image is the live camera's own snapshot where there is one, else
    the first frame of the newest clip in the spool.
    """

    def __init__(self, runtime: HomeSecRuntime, camera: CameraConfig) -> None:
        """Stream where the source has a stream."""
        HomeSecCameraEntity.__init__(self, runtime, camera, PICTURE)
        Camera.__init__(self)
        if camera.source_type in (SOURCE_RTSP, SOURCE_HA_CAMERA):
            self._attr_supported_features = CameraEntityFeature.STREAM
        self._still: tuple[str, bytes] | None = None

    async def stream_source(self) -> str | None:
        """The RTSP URL (with its credentials), or the Home Assistant camera's."""
        if self._camera.source_type == SOURCE_RTSP:
            return rtsp_settings(self._camera.data).url.get_secret_value()
        if self._camera.source_type == SOURCE_HA_CAMERA:
            return await async_get_stream_source(
                self.hass, self._camera.data[CONF_CAMERA_ENTITY]
            )
        return None

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """The live snapshot of a Home Assistant camera, else the last clip's."""
        if self._camera.source_type == SOURCE_HA_CAMERA:
            try:
                image = await async_get_image(
                    self.hass, self._camera.data[CONF_CAMERA_ENTITY], width=width
                )
            except HomeAssistantError:
                pass  # the camera is away: show the last clip instead
            else:
                return image.content
        return await self._last_clip_still()

    async def _last_clip_still(self) -> bytes | None:
        clip = await self._runtime.async_last_clip(self._camera.camera_id)
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
