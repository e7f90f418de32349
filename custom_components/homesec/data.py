"""The hub's runtime data: its settings, cameras and named collaborators."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry

from .camera_settings import CameraSettings
from .settings import HubSettings

if TYPE_CHECKING:
    from .builder import Engine
    from .camera_controls import CameraControls
    from .clip_access import ClipAccess
    from .hub_health import HubHealth
    from .links import LinkSigner
    from .runtime import HomeSecRuntime

type HomeSecConfigEntry = ConfigEntry[HomeSecData]


class Cameras(Mapping[str, CameraSettings]):
    """The hub's cameras by camera id, with their display names and context.

    One object shared by the hub's collaborators: a camera the runtime adds,
    changes or removes (``put``, ``remove``) is what they all read next.
    """

    def __init__(self, cameras: Mapping[str, CameraSettings]) -> None:
        """Keep ``cameras`` (camera id -> settings)."""
        self._cameras = dict(cameras)

    def __getitem__(self, camera_id: str) -> CameraSettings:
        """One camera's settings."""
        return self._cameras[camera_id]

    def __iter__(self) -> Iterator[str]:
        """Camera ids."""
        return iter(self._cameras)

    def __len__(self) -> int:
        """How many cameras."""
        return len(self._cameras)

    def put(self, camera: CameraSettings) -> None:
        """Add a camera, or replace its settings."""
        self._cameras[camera.camera_id] = camera

    def remove(self, camera_id: str) -> None:
        """Forget a camera (nothing happens when it is unknown)."""
        self._cameras.pop(camera_id, None)

    def title(self, camera_id: str) -> str:
        """The display name of a camera (its id when unknown)."""
        camera = self._cameras.get(camera_id)
        return camera.title if camera else camera_id

    def context(self, camera_id: str) -> tuple[str, str | None]:
        """A camera's display name and what the model should know about it."""
        camera = self._cameras.get(camera_id)
        return self.title(camera_id), (camera.prompt_context if camera else "") or None


@dataclass(frozen=True, slots=True)
class HomeSecData:
    """What a loaded hub is made of (``entry.runtime_data``)."""

    settings: HubSettings
    cameras: Cameras
    engine: Engine
    controls: CameraControls
    health: HubHealth
    clips: ClipAccess
    runtime: HomeSecRuntime
    links: LinkSigner
    """Signs the clip and snapshot links that notifications carry."""
