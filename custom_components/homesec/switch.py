"""Per-camera switches: detection and notifications (restored at start)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import STATE_OFF, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .camera_controls import CameraControls
from .data import HomeSecConfigEntry
from .entity import HomeSecCameraEntity, add_camera_entities

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class CameraSwitchDescription(SwitchEntityDescription):
    """A camera switch: how to read and set it on the camera controls."""

    is_on: Callable[[CameraControls, str], bool]
    turn: Callable[[CameraControls, str, bool], None]


SWITCHES = (
    CameraSwitchDescription(
        key="detection",
        translation_key="detection",
        entity_category=EntityCategory.CONFIG,
        is_on=CameraControls.detection_on,
        turn=CameraControls.set_detection,
    ),
    CameraSwitchDescription(
        key="notifications",
        translation_key="notifications",
        entity_category=EntityCategory.CONFIG,
        is_on=CameraControls.notifications_switched_on,
        turn=CameraControls.set_notifications,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's switches."""
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: [CameraSwitch(entry, camera, d) for d in SWITCHES],
    )


class CameraSwitch(HomeSecCameraEntity, SwitchEntity, RestoreEntity):
    """Turns a camera's detection or notifications off (clips are still kept)."""

    entity_description: CameraSwitchDescription

    @property
    def is_on(self) -> bool:
        """On unless turned off."""
        return self.entity_description.is_on(
            self._data.controls, self._camera.camera_id
        )

    async def async_added_to_hass(self) -> None:
        """Restore the last position."""
        await super().async_added_to_hass()
        last = await self.async_get_last_state()
        if last is not None and last.state == STATE_OFF:
            self._turn(on=False)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the feature on."""
        self._turn(on=True)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the feature off."""
        self._turn(on=False)
        self.async_write_ha_state()

    def _turn(self, *, on: bool) -> None:
        self.entity_description.turn(self._data.controls, self._camera.camera_id, on)
