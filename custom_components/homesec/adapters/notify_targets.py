"""Alerts sent to the notify entities and services the user picked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.core import HomeAssistant

from ..engine.interfaces import Notifier
from ..engine.models import Alert
from .alert_text import alert_message, alert_title


class _TargetNotifier(Notifier):
    """One notification target, named after it (so it is retried alone)."""

    def __init__(
        self, hass: HomeAssistant, target: str, camera_title: Callable[[str], str]
    ) -> None:
        """``target`` is a notify entity id or ``notify.<service>``."""
        self.name = target
        self._hass = hass
        self._camera_title = camera_title

    def _texts(self, alert: Alert) -> dict[str, Any]:
        camera = self._camera_title(alert.camera_name)
        return {"title": alert_title(camera), "message": alert_message(alert, camera)}


class NotifyEntityNotifier(_TargetNotifier):
    """Sends each alert to one notify entity (``notify.send_message``)."""

    async def notify(self, alert: Alert) -> None:
        """Send the alert's title and message; raise when the entity fails."""
        await self._hass.services.async_call(
            "notify",
            "send_message",
            {"entity_id": self.name, **self._texts(alert)},
            blocking=True,
        )


class NotifyServiceNotifier(_TargetNotifier):
    """Sends each alert to one notify service, such as a Companion app's.

    The clip id is the notification's ``tag``: a repeated alert replaces the
    earlier notification on a phone instead of adding one.
    """

    async def notify(self, alert: Alert) -> None:
        """Send the alert with its tag and group; raise when the service fails."""
        domain, _, service = self.name.partition(".")
        data = {"tag": alert.dedupe_key, "group": alert.camera_name}
        await self._hass.services.async_call(
            domain, service, {**self._texts(alert), "data": data}, blocking=True
        )
