"""Per-camera switches: detection and notifications (restored at start)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_OFF, EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from . import HomeSecConfigEntry
from .engine.models import LifecycleEvent
from .entity import HomeSecCameraEntity, add_camera_entities

PARALLEL_UPDATES = 0

SWITCHES = (
    SwitchEntityDescription(
        key="detection",
        translation_key="detection",
        entity_category=EntityCategory.CONFIG,
    ),
    SwitchEntityDescription(
        key="notifications",
        translation_key="notifications",
        entity_category=EntityCategory.CONFIG,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's switches."""
    add_camera_entities(
        entry.runtime_data,
        async_add_entities,
        lambda runtime, camera: [
            CameraSwitch(runtime, camera, description) for description in SWITCHES
        ],
    )


class CameraSwitch(HomeSecCameraEntity, SwitchEntity, RestoreEntity):
    """Turns a camera's detection or notifications off (clips are still kept)."""

    @property
    def _off_set(self) -> set[str]:
        if self.entity_description.key == "detection":
            return self._runtime.detection_off
        return self._runtime.notifications_off

    @property
    def is_on(self) -> bool:
        """On unless turned off."""
        return self._camera.camera_id not in self._off_set

    async def async_added_to_hass(self) -> None:
        """Restore the last position."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state == STATE_OFF:
            self._off_set.add(self._camera.camera_id)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the feature on."""
        self._off_set.discard(self._camera.camera_id)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the feature off."""
        self._off_set.add(self._camera.camera_id)
        self.async_write_ha_state()

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        """Switches do not follow clips."""
