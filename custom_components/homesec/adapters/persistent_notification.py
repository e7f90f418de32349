"""Persistent notification notifier (the fallback when no target is set)."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant

from ..engine.interfaces import Notifier
from ..engine.models import Alert
from .alert_text import alert_message, alert_title


class PersistentNotificationNotifier(Notifier):
    """Shows each alert as a persistent notification, one per clip."""

    name = "persistent notification"

    def __init__(self, hass: HomeAssistant, camera_title: Callable[[str], str]) -> None:
        """Use ``camera_title`` to turn a camera id into its display name."""
        self._hass = hass
        self._camera_title = camera_title

    async def notify(self, alert: Alert) -> None:
        """Create (or replace) the clip's notification."""
        camera = self._camera_title(alert.camera_name)
        persistent_notification.async_create(
            self._hass,
            alert_message(alert, camera, markdown=True),
            title=alert_title(camera),
            notification_id=f"homesec_{alert.dedupe_key}",
        )
