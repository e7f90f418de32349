"""Persistent notification notifier (the fallback when no target is set)."""

from __future__ import annotations

from homeassistant.components import persistent_notification

from ..engine.interfaces import Notifier
from ..engine.models import Alert
from .notify_targets import NotifyContext


class PersistentNotificationNotifier(Notifier):
    """Shows each alert as a persistent notification, one per clip.

    The snapshot is shown inline and the clip is a link; both are signed, so
    they open in the browser without Home Assistant's login header.
    """

    name = "persistent notification"

    def __init__(self, context: NotifyContext) -> None:
        """Word and link alerts with ``context``."""
        self._context = context

    async def notify(self, alert: Alert) -> None:
        """Create (or replace) the clip's notification."""
        context = self._context
        camera = context.camera_title(alert.camera_name)
        links = context.links(
            alert.clip_id, snapshot=alert.snapshot_url is not None, absolute=False
        )
        persistent_notification.async_create(
            context.hass,
            context.wording.message(alert, camera, links, markdown=True),
            title=context.wording.title(alert, camera),
            notification_id=f"homesec_{alert.dedupe_key}",
        )
