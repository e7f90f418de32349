"""Base entity of a HomeSec camera device."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, camera_signal, health_signal
from .engine.models import LifecycleEvent
from .runtime import CameraConfig, HomeSecRuntime


class HomeSecCameraEntity(Entity):
    """An entity of one camera, fed by the pipeline's lifecycle events."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        runtime: HomeSecRuntime,
        camera: CameraConfig,
        description: EntityDescription,
    ) -> None:
        """Attach to the camera's device."""
        self.entity_description = description
        self._runtime = runtime
        self._camera = camera
        self._attr_unique_id = f"{camera.subentry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, camera.subentry_id)},
            name=camera.title,
            manufacturer="HomeSec",
            model=f"{camera.source_type} camera",
        )

    @property
    def available(self) -> bool:
        """Unavailable while the camera's clip source is failing."""
        return self._runtime.source_healthy(self._camera.camera_id)

    async def async_added_to_hass(self) -> None:
        """Subscribe to the camera's lifecycle events and source health."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                camera_signal(self._runtime.entry.entry_id, self._camera.camera_id),
                self._handle_lifecycle,
            )
        )
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                health_signal(self._runtime.entry.entry_id, self._camera.camera_id),
                self.async_write_ha_state,
            )
        )

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        """React to one of the camera's lifecycle events."""
        raise NotImplementedError


class HomeSecHubEntity(Entity):
    """An entity of the hub device (health, usage, connectivity)."""

    _attr_has_entity_name = True

    def __init__(self, runtime: HomeSecRuntime, description: EntityDescription) -> None:
        """Attach to the hub's device."""
        self.entity_description = description
        self._runtime = runtime
        entry_id = runtime.entry.entry_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry_id)},
            name="HomeSec",
            manufacturer="HomeSec",
            model="Hub",
            entry_type=DeviceEntryType.SERVICE,
        )


def add_camera_entities(
    runtime: HomeSecRuntime,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[HomeSecRuntime, CameraConfig], Iterable[Entity]],
) -> None:
    """Add the entities ``build`` makes for each camera to that camera's subentry."""
    for camera in runtime.cameras.values():
        async_add_entities(
            list(build(runtime, camera)), config_subentry_id=camera.subentry_id
        )
