"""Alerts sent to the notify entities and services the user picked.

Phones with the Home Assistant Companion app (``notify.mobile_app_*``) get its
payload: the clip's tag, the snapshot, actions, a quick word at detection that
the alert replaces, and urgency from a chosen risk level. Every other target
(mail, text messages, chat, notify entities) gets a plain title and message
with the signed links written out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant

from ..const import SNOOZE_ACTION_PREFIX, SNOOZE_MINUTES
from ..engine.interfaces import Notifier
from ..engine.models import Alert, Clip, FilterResult, RiskLevel
from ..links import AlertLinks, LinkSigner, alert_links
from .alert_text import AlertWording

PHONE_PREFIX = "notify.mobile_app_"
CLEAR = "clear_notification"
"""The Companion app's command that removes the notification with a tag."""


@dataclass(frozen=True, slots=True)
class NotifyContext:
    """What every notification target needs: names, words and links."""

    hass: HomeAssistant
    camera_title: Callable[[str], str]
    wording: AlertWording
    signer: LinkSigner

    def links(self, clip_id: str, *, snapshot: bool, absolute: bool) -> AlertLinks:
        """The clip's signed links (the snapshot's only when there is one)."""
        return alert_links(
            self.hass, self.signer, clip_id, snapshot=snapshot, absolute=absolute
        )

    def plain(self, alert: Alert) -> dict[str, str]:
        """Title and message with the links written out in full."""
        camera = self.camera_title(alert.camera_name)
        links = self.links(
            alert.clip_id, snapshot=alert.snapshot_url is not None, absolute=True
        )
        return {
            "title": self.wording.title(alert, camera),
            "message": self.wording.message(alert, camera, links),
        }


def _never(_camera_id: str) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class QuickWord:
    """When a phone hears of a detection before the alert, and what it reads.

    Only when an alert can still follow: a summary model will rate the clip,
    or the camera alerts on any detection (then the alert brings the clip).
    """

    trigger_classes: frozenset[str]
    summaries: bool = True
    """Whether a summary model rates the clips with these objects."""
    alerts_on_motion: Callable[[str], bool] = _never
    """Whether a camera (by id) alerts on any detection, as configured now."""

    def wanted(self, camera_id: str, classes: Iterable[str]) -> bool:
        """Whether a detection of ``classes`` at the camera gets a quick word."""
        if not set(classes) & self.trigger_classes:
            return False
        return self.summaries or self.alerts_on_motion(camera_id)


@dataclass(frozen=True, slots=True)
class PhoneUrgency:
    """From which risk alerts break through on phones, and how far."""

    from_level: RiskLevel | None = None
    """None: never."""
    critical: bool = False
    """Critical (through silent mode) rather than time-sensitive."""

    def applies(self, alert: Alert) -> bool:
        """Whether the alert's risk is at or above the level."""
        return (
            self.from_level is not None
            and alert.risk_level is not None
            and alert.risk_level.rank >= self.from_level.rank
        )

    def payload(self) -> dict[str, Any]:
        """The Companion app's keys: iOS ``push``, Android priority and channel."""
        if self.critical:
            return {
                "push": {
                    "interruption-level": "critical",
                    "sound": {"name": "default", "critical": 1, "volume": 1.0},
                },
                "ttl": 0,
                "priority": "high",
                "channel": "alarm_stream",
            }
        return {
            "push": {"interruption-level": "time-sensitive"},
            "ttl": 0,
            "priority": "high",
        }


class _TargetNotifier(Notifier):
    """One notification target, named after it (so it is retried alone)."""

    def __init__(self, target: str, context: NotifyContext) -> None:
        """``target`` is a notify entity id or ``notify.<service>``."""
        self.name = target
        self._context = context
        self._hass = context.hass

    async def _call_service(self, service_data: dict[str, Any]) -> None:
        domain, _, service = self.name.partition(".")
        await self._hass.services.async_call(
            domain, service, service_data, blocking=True
        )


class NotifyEntityNotifier(_TargetNotifier):
    """Sends each alert to one notify entity (``notify.send_message``)."""

    async def notify(self, alert: Alert) -> None:
        """Send the alert's title and plain message; raise when the entity fails."""
        await self._hass.services.async_call(
            "notify",
            "send_message",
            {"entity_id": self.name, **self._context.plain(alert)},
            blocking=True,
        )


class PlainServiceNotifier(_TargetNotifier):
    """Sends each alert to a notify service such as mail or text messages."""

    async def notify(self, alert: Alert) -> None:
        """Send the alert's title and plain message; raise when the service fails."""
        await self._call_service(self._context.plain(alert))


class PhoneNotifier(_TargetNotifier):
    """Sends alerts to a phone's Companion app (``notify.mobile_app_*``).

    The clip id is the ``tag`` (a later notification for the clip replaces
    the earlier one in place), the snapshot is the ``image``, the clip the
    ``video`` (iOS shows it in the expanded notification), tapping opens the
    clip, and two actions open the clip or snooze the camera. Links are
    signed, so the phone needs no login for them.

    At the detection of a trigger class a quick notification goes out first
    (when an alert can follow, see ``QuickWord``); the alert replaces it under
    the same tag, and when no alert follows the app's ``clear_notification``
    command removes it at the clip's end.
    """

    def __init__(
        self,
        target: str,
        context: NotifyContext,
        quick: QuickWord,
        urgency: PhoneUrgency,
    ) -> None:
        """``target`` is ``notify.mobile_app_<device>``."""
        super().__init__(target, context)
        self._quick = quick
        self._urgency = urgency
        self._waiting: set[str] = set()
        """Clips with a quick notification that no alert has replaced yet."""

    async def notify(self, alert: Alert) -> None:
        """Send the alert; raise when the service fails."""
        self._waiting.discard(alert.clip_id)
        wording = self._context.wording
        camera = self._context.camera_title(alert.camera_name)
        links = self._context.links(
            alert.clip_id, snapshot=alert.snapshot_url is not None, absolute=False
        )
        data = self._payload(alert.clip_id, alert.camera_name, links)
        data["video"] = links.clip
        if self._urgency.applies(alert):
            data |= self._urgency.payload()
        await self._call_service(
            {
                "title": wording.title(alert, camera),
                "message": wording.message(alert, camera),
                "data": data,
            }
        )

    async def detected(self, clip: Clip, result: FilterResult) -> None:
        """The quick notification at detection, replaced when the alert comes."""
        if not self._quick.wanted(clip.camera_name, result.detected_classes):
            return
        self._waiting.add(clip.clip_id)
        wording = self._context.wording
        camera = self._context.camera_title(clip.camera_name)
        links = self._context.links(
            clip.clip_id, snapshot=result.snapshot_jpeg is not None, absolute=False
        )
        await self._call_service(
            {
                "title": wording.text(
                    "alert_title",
                    camera=camera,
                    seen=wording.labels(result.detected_classes),
                ),
                "message": wording.quick(
                    result.detected_classes, camera, summary=self._quick.summaries
                ),
                "data": self._payload(clip.clip_id, clip.camera_name, links),
            }
        )

    async def finished(self, clip: Clip) -> None:
        """Remove the clip's quick notification when no alert replaced it."""
        if clip.clip_id not in self._waiting:
            return
        self._waiting.discard(clip.clip_id)
        await self._call_service({"message": CLEAR, "data": {"tag": clip.clip_id}})

    def _payload(
        self, clip_id: str, camera_id: str, links: AlertLinks
    ) -> dict[str, Any]:
        wording = self._context.wording
        data: dict[str, Any] = {
            "tag": clip_id,
            "group": camera_id,
            "url": links.clip,
            "clickAction": links.clip,
            "actions": [
                {
                    "action": "URI",
                    "title": wording.text("open_clip"),
                    "uri": links.clip,
                },
                {
                    "action": f"{SNOOZE_ACTION_PREFIX}{camera_id}",
                    "title": wording.text("snooze", minutes=str(SNOOZE_MINUTES)),
                },
            ],
        }
        if links.snapshot:
            data["image"] = links.snapshot
        return data


def service_notifier(
    service: str,
    context: NotifyContext,
    quick: QuickWord,
    urgency: PhoneUrgency,
) -> Notifier:
    """The notifier of a notify service: a phone's, or a plain one."""
    if service.startswith(PHONE_PREFIX):
        return PhoneNotifier(service, context, quick, urgency)
    return PlainServiceNotifier(service, context)
