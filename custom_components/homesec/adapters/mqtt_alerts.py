"""Alerts published through Home Assistant's MQTT integration (no own client)."""

from __future__ import annotations

import json
import logging
from string import Formatter

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant

from ..engine.interfaces import Notifier
from ..engine.models import Alert

_LOGGER = logging.getLogger(__name__)

TOPIC_FIELDS = frozenset({"camera_name", "clip_id", "risk_level", "activity_type"})


def topic_error(template: str) -> str | None:
    """Why a topic template is unusable, or None."""
    try:
        fields = {name for _, name, _, _ in Formatter().parse(template) if name}
    except ValueError:
        return "invalid_topic"
    if not fields <= TOPIC_FIELDS or not template or "#" in template:
        return "invalid_topic"
    if "+" in template.format_map(dict.fromkeys(fields, "x")):
        return "invalid_topic"
    return None


class MqttAlertNotifier(Notifier):
    """Publishes the alert JSON on a topic such as ``homecam/alerts/{camera_name}``.

    Publishes only while Home Assistant's MQTT integration is set up; without it
    the alert goes to the other outputs and this one is skipped.
    """

    name = "mqtt"

    def __init__(self, hass: HomeAssistant, topic: str, qos: int, retain: bool) -> None:
        """``topic`` is a template over the alert's fields."""
        self._hass = hass
        self._topic = topic
        self._qos = qos
        self._retain = retain

    def topic_for(self, alert: Alert) -> str:
        """The topic of one alert."""
        values = {
            "camera_name": alert.camera_name,
            "clip_id": alert.clip_id,
            "risk_level": alert.risk_level.value if alert.risk_level else "none",
            "activity_type": alert.activity_type or "none",
        }
        return self._topic.format_map(values)

    async def notify(self, alert: Alert) -> None:
        """Publish (raises while the broker cannot be reached, so it is retried)."""
        loaded = "mqtt" in self._hass.config.components
        if not loaded or not mqtt.mqtt_config_entry_enabled(self._hass):
            _LOGGER.debug("MQTT is not set up; %s is not published", alert.clip_id)
            return
        await mqtt.async_publish(
            self._hass,
            self.topic_for(alert),
            json.dumps(alert.payload()),
            self._qos,
            self._retain,
        )
