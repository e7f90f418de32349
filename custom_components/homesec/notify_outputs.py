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


def outputs(
    hass: HomeAssistant,
    settings: HubSettings,
    cameras: Cameras,
    context: NotifyContext,
    notifications_on: CameraGate,
) -> list[Notifier]:
    """The bus, MQTT, and each chosen notify target (persistent ones without).

    Each target is a notifier of its own: one that fails is retried alone and
    never delays or repeats the others. A camera's alerts go to its own targets,
    else the hub's, else a persistent notification. Switches, snoozes and quiet
    hours hold back the user's notifications, never events or MQTT.
    """
    hub_targets = _target_keys(settings.notify_entities, settings.notify_services)
    urgency = phone_urgency(settings)

    def alerts_on_motion(camera_id: str) -> bool:
        camera = cameras.get(camera_id)
        own = None if camera is None else camera.notify_on_motion
        return settings.notify_on_motion if own is None else own

    quick = QuickWord(
        frozenset(settings.trigger_classes),
        summaries=settings.analyzer != ANALYZER_NONE,
        alerts_on_motion=alerts_on_motion,
    )

    def gate(key: str) -> CameraGate:
        def enabled(camera_id: str) -> bool:
            # Read at each alert: a camera's change applies without a reload.
            camera = cameras.get(camera_id)
            wanted = (
                hub_targets
                if camera is None
                else _target_keys(*camera.notify_targets(settings))
            )
            return key in wanted and notifications_on(camera_id)

        return enabled

    def notifier(key: str) -> Notifier:
        kind, _, name = key.partition(":")
        if kind == "entity":
            return NotifyEntityNotifier(name, context)
        if kind == "service":
            return service_notifier(name, context, quick, urgency)
        return PersistentNotificationNotifier(context)

    keys = sorted(notify_keys(settings, cameras))
    return [
        BusNotifier(hass, lambda camera_id: camera_refs(hass, cameras, camera_id)),
        MqttAlertNotifier(
            hass, settings.mqtt_topic, settings.mqtt_qos, settings.mqtt_retain
        ),
        *(GatedNotifier(notifier(key), gate(key)) for key in keys),
    ]
