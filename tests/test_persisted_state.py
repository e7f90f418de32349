"""Today's analysis budget, alert cooldowns and snoozes survive a restart."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    async_fire_time_changed,
)

from custom_components.homesec.data import HomeSecData
from custom_components.homesec.engine.models import FilterResult, TokenUsage
from custom_components.homesec.persisted_state import SAVE_DELAY_SECONDS

from .helpers import FolderHub

CAMERA = "front_door"
PERSON = FilterResult(
    detected_classes=["person"], confidence=0.9, frames_sampled=1, model="test"
)


def _hub(entry: ConfigEntry) -> HomeSecData:
    data: HomeSecData = entry.runtime_data
    return data


async def _restart(hass: HomeAssistant, entry: ConfigEntry) -> HomeSecData:
    """Unload the hub and set it up again, as a restart of Home Assistant does."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return _hub(entry)


async def _with_cooldown(hass: HomeAssistant, entry: ConfigEntry) -> HomeSecData:
    """Give the hub a 30 min cooldown after alerts (the entry reloads)."""
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "cooldown_minutes": 30}
    )
    await hass.async_block_till_done()
    return _hub(entry)


async def test_budget_cooldown_and_snooze_survive_a_restart(
    hass: HomeAssistant, folder_hub: FolderHub, hass_storage: dict[str, Any]
) -> None:
    """What was spent, alerted and snoozed before a restart still holds after it."""
    # Given a hub with a cooldown, two model calls counted today, an alert on
    # the front door and its notifications snoozed from a phone
    entry = folder_hub.entry
    hub = await _with_cooldown(hass, entry)
    hub.engine.budget.record(TokenUsage(prompt_tokens=100, completion_tokens=20))
    hub.engine.budget.record(TokenUsage(prompt_tokens=50, completion_tokens=10))
    hub.engine.policy.alerted(CAMERA, dt_util.utcnow())
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": f"HOMESEC_SNOOZE_{CAMERA}"}
    )
    await hass.async_block_till_done()
    snoozed_until = hub.controls.snoozed_until(CAMERA)
    assert snoozed_until is not None

    # When Home Assistant restarts
    hub = await _restart(hass, entry)

    # Then today's calls and tokens count on, the camera is still in its
    # cooldown and its notifications are still snoozed until the same time
    assert (hub.engine.budget.calls, hub.engine.budget.tokens) == (2, 180)
    reason = hub.engine.policy.skip_analysis(CAMERA, PERSON, dt_util.utcnow())
    assert reason is not None
    assert "cooldown" in reason
    assert hub.controls.snoozed_until(CAMERA) == snoozed_until
    assert not hub.controls.notifications_on(CAMERA)


async def test_each_change_is_saved_soon_after_it_happens(
    hass: HomeAssistant, folder_hub: FolderHub, hass_storage: dict[str, Any]
) -> None:
    """A crash loses at most the last seconds: each change is saved shortly after."""
    # Given a loaded hub with a cooldown
    entry = folder_hub.entry
    hub = await _with_cooldown(hass, entry)
    key = f"homesec.{entry.entry_id}"

    async def saved_after_the_delay() -> dict[str, Any]:
        async_fire_time_changed(
            hass, dt_util.utcnow() + timedelta(seconds=SAVE_DELAY_SECONDS + 1)
        )
        await hass.async_block_till_done()
        data: dict[str, Any] = hass_storage[key]["data"]
        return data

    # When a model call is counted and the save delay passes
    hub.engine.budget.record(TokenUsage(prompt_tokens=7, completion_tokens=3))
    saved = await saved_after_the_delay()

    # Then it is in Home Assistant's storage, without a restart
    assert (saved["budget"]["calls"], saved["budget"]["prompt_tokens"]) == (1, 7)
    assert hass_storage[key]["version"] == 1

    # When the camera alerts, then when it is snoozed
    hub.engine.policy.alerted(CAMERA, dt_util.utcnow())
    cooldowns = (await saved_after_the_delay())["cooldowns"]
    hub.controls.snooze(CAMERA, minutes=5)
    snoozes = (await saved_after_the_delay())["snoozes"]

    # Then each was saved after its delay
    assert list(cooldowns) == [CAMERA]
    assert list(snoozes) == [CAMERA]


async def test_expired_entries_are_dropped_on_load(
    hass: HomeAssistant, folder_hub: FolderHub, hass_storage: dict[str, Any]
) -> None:
    """Yesterday's budget, a finished cooldown or snooze do not come back."""
    # Given a hub with a 30 min cooldown, stopped, whose saved state holds
    # yesterday's budget, an alert 31 minutes ago, a snooze that ended a minute
    # ago and a snooze of a camera that was removed
    entry = folder_hub.entry
    await _with_cooldown(hass, entry)
    assert await hass.config_entries.async_unload(entry.entry_id)
    now = dt_util.utcnow()
    yesterday = (dt_util.now() - timedelta(days=1)).date()
    hass_storage[f"homesec.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"homesec.{entry.entry_id}",
        "data": {
            "budget": {
                "day": yesterday.isoformat(),
                "calls": 200,
                "prompt_tokens": 5,
                "completion_tokens": 5,
            },
            "cooldowns": {CAMERA: (now - timedelta(minutes=31)).isoformat()},
            "snoozes": {
                CAMERA: (now - timedelta(minutes=1)).isoformat(),
                "removed_camera": (now + timedelta(hours=1)).isoformat(),
            },
        },
    }

    # When the hub starts
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    hub = _hub(entry)

    # Then nothing expired came back
    assert hub.engine.budget.calls == 0
    assert hub.engine.policy.cooldowns() == {}
    assert hub.controls.snoozes() == {}
    assert hub.controls.notifications_on(CAMERA)


@pytest.mark.parametrize(
    "data",
    [
        {"budget": {"day": "someday", "calls": -1}},
        {"snoozes": {CAMERA: "not a time"}},
        {"cooldowns": ["front_door"]},
        "not a document",
    ],
)
async def test_unreadable_saved_state_is_ignored_with_a_warning(
    hass: HomeAssistant,
    folder_hub: FolderHub,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    data: object,
) -> None:
    """Saved state that cannot be read never fails the setup."""
    # Given a stopped hub whose saved state is not what HomeSec writes
    entry = folder_hub.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    key = f"homesec.{entry.entry_id}"
    hass_storage[key] = {"version": 1, "minor_version": 1, "key": key, "data": data}

    # When the hub starts
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    # Then it is loaded with fresh counts, and one warning says why
    assert entry.state is ConfigEntryState.LOADED
    assert _hub(entry).engine.budget.calls == 0
    warnings = [
        r
        for r in caplog.records
        if r.name.endswith("persisted_state") and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "cannot be read" in warnings[0].getMessage()


async def test_removing_the_hub_removes_its_saved_state(
    hass: HomeAssistant, folder_hub: FolderHub, hass_storage: dict[str, Any]
) -> None:
    """Nothing of a removed hub stays in Home Assistant's storage."""
    # Given a hub whose snooze was saved
    entry = folder_hub.entry
    key = f"homesec.{entry.entry_id}"
    entry.runtime_data.controls.snooze(CAMERA, minutes=5)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert key in hass_storage

    # When the hub is removed
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    # Then its saved state is gone
    assert key not in hass_storage
