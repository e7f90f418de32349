"""Home Assistant event bus outputs: ``homesec_alert`` and ``homesec_detection``."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback

from ..const import EVENT_ALERT, EVENT_DETECTION
from ..engine.interfaces import Notifier
from ..engine.models import Alert, Clip, FilterResult


class BusAlertNotifier(Notifier):
    """Fires ``homesec_alert`` with the alert payload."""

    name = "event bus"

    def __init__(self, hass: HomeAssistant) -> None:
        """Fire on ``hass``'s bus."""
        self._hass = hass

    async def notify(self, alert: Alert) -> None:
        """Fire the event."""
        self._hass.bus.async_fire(EVENT_ALERT, alert.payload())


@callback
def fire_detection(hass: HomeAssistant, clip: Clip, result: FilterResult) -> None:
    """Fire ``homesec_detection`` for a clip in which something was found."""
    hass.bus.async_fire(
        EVENT_DETECTION,
        {
            "clip_id": clip.clip_id,
            "camera_name": clip.camera_name,
            "detected_classes": result.detected_classes,
            "confidence": result.confidence,
            "ts": clip.start_ts.isoformat(),
            "dedupe_key": clip.clip_id,
        },
    )
