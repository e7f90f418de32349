"""Base entities: a camera's device, a camera's clips, and the hub's device."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import (
    AddConfigEntryEntitiesCallback,
    async_get_current_platform,
)

from .camera_entities import CameraPlatform
from .camera_settings import CameraSettings
from .const import DOMAIN, camera_signal, health_signal, hub_signal
from .data import HomeSecConfigEntry, HomeSecData
from .engine.models import LifecycleEvent


def camera_unique_id(camera: CameraSettings, key: str) -> str:
    """The unique id of a camera's entity of description ``key``."""
    return f"{camera.subentry_id}_{key}"


class HomeSecCameraEntity(Entity):
    """An entity of one camera's device; unavailable while its source fails."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        entry: HomeSecConfigEntry,
        camera: CameraSettings,
        description: EntityDescription,
    ) -> None:
        """Attach to the camera's device."""
        self.entity_description = description
        self._entry_id = entry.entry_id
        self._data: HomeSecData = entry.runtime_data
        self._camera = camera
        self._attr_unique_id = camera_unique_id(camera, description.key)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, camera.subentry_id)},
            name=camera.title,
            manufacturer="HomeSec",
            model=f"{camera.source_type} camera",
        )

    @property
    def available(self) -> bool:
        """Unavailable while the camera's clip source is failing."""
        return self._data.health.source_healthy(self._camera.camera_id)

    async def async_added_to_hass(self) -> None:
        """Follow the camera's source health."""
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                health_signal(self._entry_id, self._camera.camera_id),
                self.async_write_ha_state,
            )
        )


class ClipLifecycleEntity(HomeSecCameraEntity):
    """A camera entity that follows the camera's clips."""

    async def async_added_to_hass(self) -> None:
        """Also follow the camera's clip events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                camera_signal(self._entry_id, self._camera.camera_id),
                self._handle_lifecycle,
            )
        )

    @callback
    @abstractmethod
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        """React to one of the camera's clip events."""


class HomeSecHubEntity(Entity):
    """An entity of the hub's device, told by a signal when its value may change."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self, entry: HomeSecConfigEntry, description: EntityDescription
    ) -> None:
        """Attach to the hub's device."""
        self.entity_description = description
        self._entry_id = entry.entry_id
        self._data: HomeSecData = entry.runtime_data
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, entry.entry_id)},
            name="HomeSec",
            manufacturer="HomeSec",
            model="Hub",
            entry_type=DeviceEntryType.SERVICE,
        )
        self._shown: object = None

    async def async_added_to_hass(self) -> None:
        """Follow the hub's changes."""
        self._shown = self._current()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, hub_signal(self._entry_id), self._hub_changed
            )
        )

    @abstractmethod
    def _current(self) -> object:
        """What the entity shows now (state and attributes)."""

    @callback
    def _hub_changed(self) -> None:
        """Write the state when what it shows changed."""
        current = self._current()
        if current != self._shown:
            self._shown = current
            self.async_write_ha_state()


def add_camera_entities(
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[CameraSettings], Iterable[Entity]],
) -> None:
    """Add the entities ``build`` makes for each camera to that camera's subentry.

    Cameras added or reconfigured later get theirs from the runtime (through
    ``CameraEntities``), without the other cameras' entities being touched.
    """
    for camera in entry.runtime_data.cameras.values():
        async_add_entities(list(build(camera)), config_subentry_id=camera.subentry_id)
    platform = async_get_current_platform()

    async def add(camera: CameraSettings) -> None:
        await platform.async_add_entities(
            list(build(camera)), config_subentry_id=camera.subentry_id
        )

    async def remove(subentry_id: str) -> None:
        for entity_id, entity in list(platform.entities.items()):
            registered = entity.registry_entry
            if (
                registered is not None
                and registered.config_subentry_id == subentry_id
                and entity_id in platform.entities  # not removed meanwhile
            ):
                await platform.async_remove_entity(entity_id)

    entry.async_on_unload(
        entry.runtime_data.runtime.camera_entities.register(CameraPlatform(add, remove))
    )
