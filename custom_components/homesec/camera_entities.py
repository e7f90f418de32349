"""Each platform's camera entities, added and removed one camera at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.core import CALLBACK_TYPE, callback

from .camera_settings import CameraSettings


@dataclass(frozen=True, slots=True)
class CameraPlatform:
    """How one platform adds a camera's entities and removes them again."""

    add: Callable[[CameraSettings], Awaitable[None]]
    remove: Callable[[str], Awaitable[None]]
    """Remove the entities of a camera subentry (by subentry id)."""


class CameraEntities:
    """The platforms that make camera entities, for a camera added or changed later."""

    def __init__(self) -> None:
        """No platform until they set up."""
        self._platforms: list[CameraPlatform] = []

    @callback
    def register(self, platform: CameraPlatform) -> CALLBACK_TYPE:
        """Follow ``platform`` until the returned callback is called."""
        self._platforms.append(platform)
        return lambda: self._platforms.remove(platform)

    async def async_add(self, camera: CameraSettings) -> None:
        """Add the camera's entities on every platform (they are set up after)."""
        for platform in list(self._platforms):
            await platform.add(camera)

    async def async_remove(self, subentry_id: str) -> None:
        """Remove a camera's entities from every platform."""
        for platform in list(self._platforms):
            await platform.remove(subentry_id)
