"""Quick phone notifications at detection, replaced by the alert or removed.

The alert uses the same tag, so it replaces the quick notification in place;
when no alert follows, the quick notification is cleared.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from .adapters.notify_targets import NotifyServiceNotifier
from .engine.models import Clip, FilterResult

_LOGGER = logging.getLogger(__name__)


class QuickNotifications:
    """The quick notification of each clip whose detection goes to the model."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        phones: Sequence[NotifyServiceNotifier],
        trigger_classes: frozenset[str],
        notifications_on: Callable[[str], bool],
    ) -> None:
        """Notify ``phones`` about clips with one of ``trigger_classes``."""
        self._hass = hass
        self._entry = entry
        self._phones = list(phones)
        self._trigger_classes = trigger_classes
        self._notifications_on = notifications_on
        self._waiting: set[str] = set()
        """Clips with a quick notification that no alert has replaced yet."""

    @callback
    def detected(self, clip: Clip, result: FilterResult) -> None:
        """Send the quick notification of a clip that goes to the summary model."""
        wanted = set(result.detected_classes) & self._trigger_classes
        if (
            not self._phones
            or not wanted
            or not self._notifications_on(clip.camera_name)
        ):
            return
        self._waiting.add(clip.clip_id)
        for phone in self._phones:
            self._send(phone.notify_detection(clip, result), phone.name)

    @callback
    def alerted(self, clip_id: str) -> None:
        """The alert replaces the quick notification (same tag)."""
        self._waiting.discard(clip_id)

    @callback
    def finished(self, clip_id: str) -> None:
        """Remove a quick notification that no alert replaced."""
        if clip_id not in self._waiting:
            return
        self._waiting.discard(clip_id)
        for phone in self._phones:
            self._send(phone.clear(clip_id), phone.name)

    @callback
    def _send(self, call: Awaitable[None], target: str) -> None:
        self._entry.async_create_background_task(
            self._hass, _best_effort(call, target), "homesec quick notification"
        )


async def _best_effort(call: Awaitable[None], target: str) -> None:
    """Run a notification that is not worth a retry (logged when it fails)."""
    try:
        await call
    except HomeAssistantError as err:
        _LOGGER.debug("Quick notification to %s failed: %s", target, err)
