"""Alerts sent to the notify entities and services the user picked."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import HomeAssistant

from ..const import SNOOZE_ACTION_PREFIX, SNOOZE_MINUTES
from ..engine.interfaces import Notifier
from ..engine.models import Alert, Clip, FilterResult
from ..links import clip_path, signed, snapshot_path
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
    """Sends alerts to one notify service, such as the Companion app's.

    The payload follows the Companion app: the clip id is the ``tag`` (a later
    notification for the clip replaces the earlier one in place), the snapshot
    is the ``image``, tapping opens the clip, and two actions open the clip or
    snooze the camera. Links are signed, so the phone needs no login for them.

    At the detection of a trigger class a quick notification goes out first;
    the alert replaces it under the same tag, and when no alert follows it is
    removed at the clip's end.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        target: str,
        camera_title: Callable[[str], str],
        trigger_classes: Iterable[str],
    ) -> None:
        """``target`` is ``notify.<service>``; quick notes for ``trigger_classes``."""
        super().__init__(hass, target, camera_title)
        self._trigger_classes = frozenset(trigger_classes)
        self._waiting: set[str] = set()
        """Clips with a quick notification that no alert has replaced yet."""

    async def notify(self, alert: Alert) -> None:
        """Send the alert; raise when the service fails."""
        self._waiting.discard(alert.clip_id)
        data = self._payload(alert.clip_id, alert.camera_name, alert.snapshot_url)
        await self._call({**self._texts(alert), "data": data})

    async def detected(self, clip: Clip, result: FilterResult) -> None:
        """The quick notification at detection, replaced when the alert comes."""
        if not set(result.detected_classes) & self._trigger_classes:
            return
        self._waiting.add(clip.clip_id)
        camera = self._camera_title(clip.camera_name)
        found = ", ".join(result.detected_classes) or "motion"
        snapshot = snapshot_path(clip.clip_id) if result.snapshot_jpeg else None
        await self._call(
            {
                "title": alert_title(camera),
                "message": f"{found.capitalize()} at {camera}; summary follows.",
                "data": self._payload(clip.clip_id, clip.camera_name, snapshot),
            }
        )

    async def finished(self, clip: Clip) -> None:
        """Remove the clip's quick notification when no alert replaced it."""
        if clip.clip_id not in self._waiting:
            return
        self._waiting.discard(clip.clip_id)
        await self._call(
            {"message": "clear_notification", "data": {"tag": clip.clip_id}}
        )

    def _payload(
        self, clip_id: str, camera_id: str, snapshot: str | None
    ) -> dict[str, Any]:
        clip = signed(self._hass, clip_path(clip_id))
        data: dict[str, Any] = {
            "tag": clip_id,
            "group": camera_id,
            "url": clip,
            "clickAction": clip,
            "actions": [
                {"action": "URI", "title": "Open clip", "uri": clip},
                {
                    "action": f"{SNOOZE_ACTION_PREFIX}{camera_id}",
                    "title": f"Snooze {SNOOZE_MINUTES} min",
                },
            ],
        }
        if snapshot:
            data["image"] = signed(self._hass, snapshot)
        return data

    async def _call(self, service_data: dict[str, Any]) -> None:
        domain, _, service = self.name.partition(".")
        await self._hass.services.async_call(
            domain, service, service_data, blocking=True
        )
