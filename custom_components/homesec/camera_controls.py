"""What the user switched per camera: detection, notifications, snooze, quiet hours."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
import logging

from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import SNOOZE_ACTION_PREFIX, SNOOZE_MINUTES
from .data import Cameras

_LOGGER = logging.getLogger(__name__)
NOTIFICATION_ACTION = "mobile_app_notification_action"


class CameraControls:
    """Each camera's detection and notification switches, snooze and quiet hours."""

    def __init__(self, hass: HomeAssistant, cameras: Cameras) -> None:
        """Everything on; nothing snoozed."""
        self._hass = hass
        self._cameras = cameras
        self._detection_off: set[str] = set()
        self._notifications_off: set[str] = set()
        self._snoozed_until: dict[str, datetime] = {}
        self._listeners: list[Callable[[], None]] = []

    def detection_on(self, camera_id: str) -> bool:
        """Whether the camera's detection switch is on."""
        return camera_id not in self._detection_off

    @callback
    def set_detection(self, camera_id: str, on: bool) -> None:
        """Turn the camera's detection on or off (clips are kept either way)."""
        _toggle(self._detection_off, camera_id, off=not on)

    def notifications_switched_on(self, camera_id: str) -> bool:
        """Whether the camera's notification switch is on."""
        return camera_id not in self._notifications_off

    @callback
    def set_notifications(self, camera_id: str, on: bool) -> None:
        """Turn the camera's notifications on or off."""
        _toggle(self._notifications_off, camera_id, off=not on)

    def notifications_on(self, camera_id: str) -> bool:
        """Whether notifications go out: switch on, not snoozed, not quiet hours."""
        if not self.notifications_switched_on(camera_id):
            return False
        now = dt_util.now()
        if (until := self.snoozed_until(camera_id)) is not None and now < until:
            return False
        camera = self._cameras.get(camera_id)
        return camera is None or not camera.in_quiet_hours(now)

    def snoozed_until(self, camera_id: str) -> datetime | None:
        """When the camera's snooze ends (None: never snoozed)."""
        return self._snoozed_until.get(camera_id)

    @callback
    def snooze(self, camera_id: str, minutes: float = SNOOZE_MINUTES) -> None:
        """Hold back the camera's notifications for ``minutes``."""
        self._snoozed_until[camera_id] = dt_util.now() + timedelta(minutes=minutes)
        _LOGGER.info("Notifications of %s snoozed for %g min", camera_id, minutes)
        for listener in self._listeners:
            listener()

    def watch(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each snooze (to save the snoozes)."""
        self._listeners.append(listener)

    def snoozes(self) -> dict[str, datetime]:
        """When each camera's last snooze ends."""
        return dict(self._snoozed_until)

    def restore_snoozes(self, snoozes: Mapping[str, datetime]) -> None:
        """Take saved snoozes back; ended ones and removed cameras' go."""
        now = dt_util.now()
        self._snoozed_until.update(
            (camera, end)
            for camera, end in snoozes.items()
            if end > now and camera in self._cameras
        )

    @callback
    def async_listen(self) -> CALLBACK_TYPE:
        """Follow taps on the notifications' Snooze action; return the unsubscribe."""
        return self._hass.bus.async_listen(
            NOTIFICATION_ACTION, self._on_notification_action
        )

    @callback
    def _on_notification_action(self, event: Event) -> None:
        action = str(event.data.get("action", ""))
        camera_id = action.removeprefix(SNOOZE_ACTION_PREFIX)
        if action.startswith(SNOOZE_ACTION_PREFIX) and camera_id in self._cameras:
            self.snooze(camera_id)


def _toggle(off_set: set[str], camera_id: str, *, off: bool) -> None:
    if off:
        off_set.add(camera_id)
    else:
        off_set.discard(camera_id)
