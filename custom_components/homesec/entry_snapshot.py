"""What a loaded hub was built from, to tell a camera's change from the hub's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry

from .camera_settings import CameraSettings, cameras_of
from .const import SUBENTRY_CAMERA
from .settings import merged


@dataclass(frozen=True, slots=True)
class EntrySnapshot:
    """The hub's settings, its cameras, and any other subentry, as applied."""

    hub: dict[str, Any]
    """The hub's data with its options on top."""
    cameras: dict[str, CameraSettings]
    """The cameras by camera id."""
    others: dict[str, tuple[str, str, dict[str, Any]]]
    """Subentries that are not cameras: type, title and data by subentry id."""

    @classmethod
    def of(cls, entry: ConfigEntry[Any]) -> EntrySnapshot:
        """What ``entry`` holds now."""
        return cls(
            hub=merged(entry),
            cameras=cameras_of(entry),
            others={
                subentry_id: (sub.subentry_type, sub.title, dict(sub.data))
                for subentry_id, sub in entry.subentries.items()
                if sub.subentry_type != SUBENTRY_CAMERA
            },
        )

    def only_cameras_differ(self, other: EntrySnapshot) -> bool:
        """Whether ``other`` differs from this one in its cameras alone (or not)."""
        return self.hub == other.hub and self.others == other.others
