"""Catching up after an outage: what the storage or the detector missed.

Nothing that already happened runs again.
"""

from __future__ import annotations

from datetime import datetime
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .builder import Engine
from .engine.recovery import find_unstored, find_waiting
from .engine.text import count
from .hub_health import HubHealth

_LOGGER = logging.getLogger(__name__)


class CatchUp:
    """Re-runs the one stage an outage stopped, for the clips it stopped."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, engine: Engine, health: HubHealth
    ) -> None:
        """Catch up ``engine``'s clips as ``health`` sees the outages end."""
        self._hass = hass
        self._entry = entry
        self._engine = engine
        self._health = health

    async def async_store_pending(self) -> int:
        """Upload the spooled clips whose upload failed; return how many."""
        engine = self._engine
        pending = await find_unstored(
            engine.spool, engine.repository, self._hass.async_add_executor_job
        )
        for item in pending or []:
            assert item.state is not None
            await engine.pipeline.store_again(item.clip, item.state)
        if pending:
            _LOGGER.info("Storing %s whose upload failed", count(len(pending), "clip"))
        return len(pending or [])

    async def async_detect_waiting(self, *, newest_only: bool = False) -> int:
        """Queue clips waiting for the detector again; return how many."""
        engine = self._engine
        mark = engine.pipeline.mark()
        waiting = await find_waiting(
            engine.spool, engine.repository, self._hass.async_add_executor_job
        )
        chosen = (waiting or [])[:1] if newest_only else waiting or []
        for item in chosen:
            await engine.pipeline.resume(item.clip, item.state, mark)
        return len(chosen)

    @callback
    def detector_back(self) -> None:
        """The detector answers again: detect every clip that waited for it."""
        self._entry.async_create_background_task(
            self._hass, self.async_detect_waiting(), "homesec detect waiting clips"
        )

    async def async_probe_detector(self, _: datetime) -> None:
        """While the detector is away, try the newest waiting clip again."""
        if not self._health.detector_available:
            await self.async_detect_waiting(newest_only=True)

    async def async_ping_storage(self, _: datetime | None = None) -> None:
        """Ask the storage; when it answers again, store what it missed."""
        if await self._health.async_ping_storage():
            await self.async_store_pending()

    async def async_store_tick(self, _: datetime) -> None:
        """While the storage answers, store what an earlier failure missed."""
        if self._health.storage_reachable:
            await self.async_store_pending()
