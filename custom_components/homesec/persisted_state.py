"""What must survive a restart: today's budget, cooldowns, snoozes, parked objects.

Saved with Home Assistant's ``Store`` (``.storage/homesec.<entry_id>``) a few
seconds after each change and when the hub stops; loaded before it starts.
Expired entries are dropped on load; stored data that cannot be read is ignored
with a warning (the hub starts with fresh counts).
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from pydantic import AwareDatetime, BaseModel, ValidationError

from .camera_controls import CameraControls
from .const import DOMAIN
from .engine.analyze.budget import AnalysisBudget
from .engine.detect.stationary import StationaryTracker
from .engine.policy import DefaultAlertPolicy

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1
SAVE_DELAY_SECONDS = 10


class SavedState(BaseModel):
    """The stored document."""

    budget: dict[str, Any] | None = None
    cooldowns: dict[str, AwareDatetime] = {}
    """Each camera's last alert (when its cooldown began)."""
    snoozes: dict[str, AwareDatetime] = {}
    """When each camera's snooze ends."""
    stationary: dict[str, Any] | None = None
    """The boxes of each camera's latest clip (objects that may stand still)."""


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}", private=True)


async def async_remove_persisted_state(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a removed hub's saved state."""
    await _store(hass, entry_id).async_remove()


class PersistedState:
    """Loads and saves the hub's budget, cooldowns, snoozes and parked objects."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        budget: AnalysisBudget,
        policy: DefaultAlertPolicy,
        controls: CameraControls,
        *,
        stationary: StationaryTracker,
    ) -> None:
        """Nothing is read until ``async_load``."""
        self._store = _store(hass, entry_id)
        self._budget = budget
        self._policy = policy
        self._controls = controls
        self._stationary = stationary

    async def async_load(self) -> None:
        """Restore what was saved, then save again after each change."""
        try:
            self._restore(await self._store.async_load())
        except (HomeAssistantError, NotImplementedError, ValidationError) as err:
            _LOGGER.warning(
                "Ignoring HomeSec's saved budget, cooldowns and snoozes, which "
                "cannot be read (%s); starting from fresh counts",
                str(err).splitlines()[0],
            )
        for part in (self._budget, self._policy, self._controls, self._stationary):
            part.watch(self._schedule_save)

    async def async_save(self) -> None:
        """Save now (when the hub stops)."""
        await self._store.async_save(self._document())

    def _restore(self, data: dict[str, Any] | None) -> None:
        if data is None:
            return
        saved = SavedState.model_validate(data)
        if saved.budget is not None:
            self._budget.restore(saved.budget)
        self._policy.restore_cooldowns(saved.cooldowns, dt_util.utcnow())
        self._controls.restore_snoozes(saved.snoozes)
        if saved.stationary is not None:
            try:  # boxes of removed cameras are dropped here
                self._stationary.restore(saved.stationary)
            except ValidationError as err:
                _LOGGER.warning(
                    "Ignoring HomeSec's saved parked objects, which cannot be read "
                    "(%s); each alerts once more when seen",
                    str(err).splitlines()[0],
                )

    @callback
    def _schedule_save(self) -> None:
        self._store.async_delay_save(self._document, SAVE_DELAY_SECONDS)

    def _document(self) -> dict[str, Any]:
        return SavedState(
            budget=self._budget.snapshot(),
            cooldowns=self._policy.cooldowns(),
            snoozes=self._controls.snoozes(),
            stationary=self._stationary.export(),
        ).model_dump(mode="json")
