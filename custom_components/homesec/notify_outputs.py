"""Where alerts go: the bus, MQTT, and each notify target of the hub or a camera."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.core import HomeAssistant

from .adapters.event_bus import BusNotifier
from .adapters.mqtt_alerts import MqttAlertNotifier
from .adapters.notify_targets import (
    NotifyContext,
    NotifyEntityNotifier,
    PhoneUrgency,
    QuickWord,
    service_notifier,
)
from .adapters.persistent_notification import PersistentNotificationNotifier
from .camera_refs import camera_refs
from .const import ANALYZER_NONE, RISK_LEVELS
from .data import Cameras
from .engine.gates import CameraGate, GatedNotifier
from .engine.interfaces import Notifier
from .engine.models import RiskLevel
from .settings import HubSettings

PERSISTENT = "persistent"


def phone_urgency(settings: HubSettings) -> PhoneUrgency:
    """From which risk phone alerts are urgent (never by default)."""
    level = settings.phone_urgent_from
    return PhoneUrgency(
        from_level=RiskLevel(level) if level in RISK_LEVELS else None,
        critical=settings.phone_urgent_critical,
    )


def _target_keys(entities: Iterable[str], services: Iterable[str]) -> frozenset[str]:
    """Notify targets as ``entity:<id>``/``service:<name>``; none: persistent."""
    keys = {f"entity:{e}" for e in entities} | {f"service:{s}" for s in services}
    return frozenset(keys or {PERSISTENT})


def notify_keys(settings: HubSettings, cameras: Cameras) -> frozenset[str]:
    """Every notify target the hub or one of its cameras sends to."""
    hub = _target_keys(settings.notify_entities, settings.notify_services)
    return hub.union(
        *(_target_keys(*camera.notify_targets(settings)) for camera in cameras.values())
    )


class TargetNotifiers:
    """Builds each notify target's notifier, gated by camera (also later ones).

    A camera's alerts go to its own targets, else the hub's, else a persistent
    notification. Switches, snoozes and quiet hours hold back the user's
    notifications, never events or MQTT.
    """

    def __init__(
        self,
        settings: HubSettings,
        cameras: Cameras,
        context: NotifyContext,
        notifications_on: CameraGate,
    ) -> None:
        """Targets of ``settings`` and ``cameras`` (read at each alert)."""
        self._settings = settings
        self._cameras = cameras
        self._context = context
        self._notifications_on = notifications_on
        self._hub_targets = _target_keys(
            settings.notify_entities, settings.notify_services
        )
        self._urgency = phone_urgency(settings)
        self._quick = QuickWord(
            frozenset(settings.trigger_classes),
            summaries=settings.analyzer != ANALYZER_NONE,
            alerts_on_motion=self._alerts_on_motion,
        )

    def _alerts_on_motion(self, camera_id: str) -> bool:
        camera = self._cameras.get(camera_id)
        own = None if camera is None else camera.notify_on_motion
        return self._settings.notify_on_motion if own is None else own

    def _gate(self, key: str) -> CameraGate:
        def enabled(camera_id: str) -> bool:
            # Read at each alert: a camera's change applies without a reload.
            camera = self._cameras.get(camera_id)
            wanted = (
                self._hub_targets
                if camera is None
                else _target_keys(*camera.notify_targets(self._settings))
            )
            return key in wanted and self._notifications_on(camera_id)

        return enabled

    def notifier(self, key: str) -> Notifier:
        """The target ``key``'s notifier, for the cameras that send to it."""
        kind, _, name = key.partition(":")
        bare: Notifier
        if kind == "entity":
            bare = NotifyEntityNotifier(name, self._context)
        elif kind == "service":
            bare = service_notifier(name, self._context, self._quick, self._urgency)
        else:
            bare = PersistentNotificationNotifier(self._context)
        return GatedNotifier(bare, self._gate(key))


def outputs(
    hass: HomeAssistant,
    settings: HubSettings,
    cameras: Cameras,
    targets: TargetNotifiers,
) -> list[Notifier]:
    """The bus, MQTT, and each chosen notify target (persistent ones without).

    Each target is a notifier of its own: one that fails is retried alone and
    never delays or repeats the others.
    """
    keys = sorted(notify_keys(settings, cameras))
    return [
        BusNotifier(hass, lambda camera_id: camera_refs(hass, cameras, camera_id)),
        MqttAlertNotifier(
            hass, settings.mqtt_topic, settings.mqtt_qos, settings.mqtt_retain
        ),
        *(targets.notifier(key) for key in keys),
    ]
