"""Persistent notification notifier (the fallback when no target is set)."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from ..engine.interfaces import Notifier
from ..engine.models import Alert


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
        when = dt_util.as_local(alert.ts).strftime("%H:%M:%S")
        what = alert.summary or ", ".join(alert.detected_classes) or "activity"
        lines = [f"**{camera}** at {when}: {what}", f"Why: {alert.notify_reason}."]
        if alert.risk_level is not None:
            lines.append(f"Risk: {alert.risk_level.value}.")
        if alert.upload_failed:
            lines.append("The clip is kept locally (upload failed).")
        persistent_notification.async_create(
            self._hass,
            "\n\n".join(lines),
            title=f"HomeSec: {camera}",
            notification_id=f"homesec_{alert.dedupe_key}",
        )
