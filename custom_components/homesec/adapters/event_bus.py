"""Home Assistant event bus outputs: ``homesec_alert`` and ``homesec_detection``."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from homeassistant.core import HomeAssistant

from ..const import EVENT_ALERT, EVENT_DETECTION
from ..engine.detect.rules import zones_by_class
from ..engine.interfaces import Notifier
from ..engine.models import Alert, Clip, FilterResult


class BusNotifier(Notifier):
    """Fires ``homesec_detection`` at detection and ``homesec_alert`` per alert.

    Both carry the camera's ``device_id`` and ``entity_id`` (from ``refs``), so
    their logbook lines also show on the camera's device page and entity.
    """

    name = "event bus"

    def __init__(
        self, hass: HomeAssistant, refs: Callable[[str], Mapping[str, str]]
    ) -> None:
        """Fire on ``hass``'s bus; ``refs`` gives a camera id's device and entity."""
        self._hass = hass
        self._refs = refs

    async def notify(self, alert: Alert) -> None:
        """Fire the event."""
        self._hass.bus.async_fire(
            EVENT_ALERT, {**alert.payload(), **self._refs(alert.camera_name)}
        )

    async def detected(self, clip: Clip, result: FilterResult) -> None:
        """Fire ``homesec_detection`` for a clip in which something was found."""
        self._hass.bus.async_fire(
            EVENT_DETECTION,
            {
                "clip_id": clip.clip_id,
                "camera_name": clip.camera_name,
                "detected_classes": result.detected_classes,
                "confidence": result.confidence,
                "zones": result.zones,
                "class_zones": zones_by_class(result),
                "ts": clip.start_ts.isoformat(),
                "dedupe_key": clip.clip_id,
                **self._refs(clip.camera_name),
                "live": result.live,
            },
        )
