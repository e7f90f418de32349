"""Per-camera buttons: analyze the last clip again, record now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import HomeSecConfigEntry
from .const import SOURCE_HA_CAMERA, SOURCE_RTSP
from .engine.models import LifecycleEvent
from .entity import HomeSecCameraEntity, add_camera_entities
from .runtime import CameraConfig, HomeSecRuntime

PARALLEL_UPDATES = 1


async def _analyze(runtime: HomeSecRuntime, camera_id: str) -> None:
    await runtime.async_analyze_last_clip(camera_id)


async def _record(runtime: HomeSecRuntime, camera_id: str) -> None:
    runtime.record_now(camera_id)


@dataclass(frozen=True, kw_only=True)
class CameraButtonDescription(ButtonEntityDescription):
    """A button and what pressing it does."""

    press: Callable[[HomeSecRuntime, str], Awaitable[None]]
    sources: frozenset[str] | None = None
    """Source types that have the button (None: all)."""


BUTTONS = (
    CameraButtonDescription(
        key="analyze_last_clip", translation_key="analyze_last_clip", press=_analyze
    ),
    CameraButtonDescription(
        key="record_now",
        translation_key="record_now",
        press=_record,
        sources=frozenset({SOURCE_RTSP, SOURCE_HA_CAMERA}),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's buttons."""
    add_camera_entities(entry.runtime_data, async_add_entities, _buttons)


def _buttons(runtime: HomeSecRuntime, camera: CameraConfig) -> list[CameraButton]:
    return [
        CameraButton(runtime, camera, description)
        for description in BUTTONS
        if description.sources is None or camera.source_type in description.sources
    ]


class CameraButton(HomeSecCameraEntity, ButtonEntity):
    """Runs one action for the camera."""

    entity_description: CameraButtonDescription

    async def async_press(self) -> None:
        """Run the button's action (errors are shown to the user)."""
        await self.entity_description.press(self._runtime, self._camera.camera_id)

    @callback
    def _handle_lifecycle(self, event: LifecycleEvent) -> None:
        """Buttons do not follow clips."""
