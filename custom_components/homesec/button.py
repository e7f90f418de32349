"""Per-camera buttons: analyze the last clip again, record now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .clip_access import ClipAccess, Refusal
from .data import HomeSecConfigEntry
from .entity import HomeSecCameraEntity, add_camera_entities
from .source_kinds import SOURCE_KINDS, SourceKind
from .user_errors import refused

PARALLEL_UPDATES = 1


async def _analyze(clips: ClipAccess, camera_id: str) -> Refusal | None:
    result = await clips.async_analyze_last(camera_id)
    return result if isinstance(result, Refusal) else None


async def _record(clips: ClipAccess, camera_id: str) -> Refusal | None:
    return clips.record_now(camera_id)


@dataclass(frozen=True, kw_only=True)
class CameraButtonDescription(ButtonEntityDescription):
    """A button, what pressing it does, and which kinds of camera have it."""

    press: Callable[[ClipAccess, str], Awaitable[Refusal | None]]
    offered: Callable[[SourceKind], bool] = lambda kind: True


BUTTONS = (
    CameraButtonDescription(
        key="analyze_last_clip", translation_key="analyze_last_clip", press=_analyze
    ),
    CameraButtonDescription(
        key="record_now",
        translation_key="record_now",
        press=_record,
        offered=lambda kind: kind.can_record,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HomeSecConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add each camera's buttons."""
    add_camera_entities(
        entry,
        async_add_entities,
        lambda camera: [
            CameraButton(entry, camera, description)
            for description in BUTTONS
            if description.offered(SOURCE_KINDS[camera.source_type])
        ],
    )


class CameraButton(HomeSecCameraEntity, ButtonEntity):
    """Runs one action for the camera."""

    entity_description: CameraButtonDescription

    async def async_press(self) -> None:
        """Run the button's action; tell the user why when it cannot be done."""
        refusal = await self.entity_description.press(
            self._data.clips, self._camera.camera_id
        )
        if refusal is not None:
            raise refused(refusal, self._data.cameras)
