"""Alerts sent to the notify entities and services the user picked."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import HomeAssistant

from ..engine.interfaces import Notifier
from ..engine.models import Alert
from .alert_text import alert_message, alert_title


class NotifyEntityNotifier(Notifier):
    """Sends each alert to one notify entity (``notify.send_message``)."""

    def __init__(
        self, hass: HomeAssistant, entity_id: str, camera_title: Callable[[str], str]
    ) -> None:
        """``entity_id`` is a notify entity."""
        self.name = entity_id
        self._hass = hass
        self._camera_title = camera_title

    async def notify(self, alert: Alert) -> None:
        """Send the alert's title and message; raise when the entity fails."""
        camera = self._camera_title(alert.camera_name)
        await self._hass.services.async_call(
            "notify",
            "send_message",
            {
                "entity_id": self.name,
                "title": alert_title(camera),
                "message": alert_message(alert, camera),
            },
            blocking=True,
        )


class NotifyServiceNotifier(Notifier):
    """Sends each alert to one notify service, such as a Companion app's.

    The clip id is the notification's ``tag``: a repeated alert replaces the
    earlier notification on a phone instead of adding one.
    """

    def __init__(
        self, hass: HomeAssistant, service: str, camera_title: Callable[[str], str]
    ) -> None:
        """``service`` is ``notify.<name>``."""
        self.name = service
        self._hass = hass
        self._camera_title = camera_title

    async def notify(self, alert: Alert) -> None:
        """Send the alert with its tag and group; raise when the service fails."""
        camera = self._camera_title(alert.camera_name)
        domain, _, service = self.name.partition(".")
        await self._hass.services.async_call(
            domain,
            service,
            {
                "title": alert_title(camera),
                "message": alert_message(alert, camera),
                "data": {"tag": alert.dedupe_key, "group": alert.camera_name},
            },
            blocking=True,
        )
