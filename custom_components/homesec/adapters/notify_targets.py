"""Alerts sent to the notify entities and services the user picked."""

from __future__ import annotations

from collections.abc import Callable, Sequence
import logging

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from ..engine.interfaces import Notifier
from ..engine.models import Alert
from .alert_text import alert_message, alert_title

_LOGGER = logging.getLogger(__name__)


class NotifyTargetsError(HomeAssistantError):
    """Some notification targets failed (the others were notified)."""


class NotifyTargetsNotifier(Notifier):
    """Sends each alert to notify entities and notify services (mobile apps).

    Services get the clip id as ``tag``, so a repeated alert replaces the
    earlier notification on a phone instead of adding one.
    """

    name = "notify targets"

    def __init__(
        self,
        hass: HomeAssistant,
        entities: Sequence[str],
        services: Sequence[str],
        camera_title: Callable[[str], str],
    ) -> None:
        """Targets are entity ids and ``notify.<service>`` names."""
        self._hass = hass
        self._entities = list(entities)
        self._services = list(services)
        self._camera_title = camera_title

    async def notify(self, alert: Alert) -> None:
        """Notify every target; raise once if any of them failed."""
        camera = self._camera_title(alert.camera_name)
        title = alert_title(camera)
        message = alert_message(alert, camera)
        failed: list[str] = []
        if self._entities:
            try:
                await self._hass.services.async_call(
                    "notify",
                    "send_message",
                    {"entity_id": self._entities, "title": title, "message": message},
                    blocking=True,
                )
            except HomeAssistantError as err:
                _LOGGER.debug("Notify entities failed: %s", err)
                failed += self._entities
        for service in self._services:
            domain, _, name = service.partition(".")
            data = {"tag": alert.dedupe_key, "group": alert.camera_name}
            try:
                await self._hass.services.async_call(
                    domain,
                    name,
                    {"title": title, "message": message, "data": data},
                    blocking=True,
                )
            except HomeAssistantError as err:
                _LOGGER.debug("Notify service %s failed: %s", service, err)
                failed.append(service)
        if failed:
            raise NotifyTargetsError(f"not delivered to {', '.join(failed)}")
