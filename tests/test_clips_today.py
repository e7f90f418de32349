"""'Clips today' counts since local midnight, across reloads and restarts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from homeassistant.core import HomeAssistant, State
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    mock_restore_cache_with_extra_data,
)

from .helpers import setup_folder_camera, wait_for

ENTITY = "sensor.front_door_clips_today"


async def test_counts_reset_at_local_midnight_and_survive_a_reload(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path
) -> None:
    """Two clips count 2, a reload keeps 2, local midnight brings 0."""
    # Given a folder camera in a time zone far from UTC
    await hass.config.async_set_time_zone("Pacific/Auckland")
    entry, drop = await setup_folder_camera(hass, config_dir)

    # When two clips arrive
    for name in ("one.mp4", "two.mp4"):
        (drop / name).write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: hass.states.get(ENTITY).state == "2", what="two clips")
    state = hass.states.get(ENTITY)

    # Then the total counts from local midnight, for statistics
    assert state.attributes["state_class"] == "total"
    midnight = dt_util.start_of_local_day()
    assert dt_util.parse_datetime(state.attributes["last_reset"]) == midnight

    # When the hub is reloaded, then the count is kept
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(ENTITY).state == "2"

    # When local midnight comes, then the count starts again from 0
    async_fire_time_changed(hass, midnight + timedelta(days=1, seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    state = hass.states.get(ENTITY)
    assert state.state == "0"
    reset = dt_util.parse_datetime(state.attributes["last_reset"])
    assert reset == midnight + timedelta(days=1)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_restart_keeps_todays_count_but_not_yesterdays(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """The restored count is used only when it was counted today."""
    # Given a saved count of 5 for today (as Home Assistant keeps it at stop)
    midnight = dt_util.start_of_local_day()
    attributes = {"state_class": "total", "last_reset": midnight.isoformat()}
    saved = {"native_value": 5, "native_unit_of_measurement": None}
    mock_restore_cache_with_extra_data(hass, [(State(ENTITY, "5", attributes), saved)])

    # When Home Assistant starts with the camera
    await setup_folder_camera(hass, config_dir)

    # Then today's count goes on from 5
    assert hass.states.get(ENTITY).state == "5"


async def test_a_count_from_yesterday_is_not_restored(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A count saved before local midnight starts again from 0."""
    # Given a saved count of 7 from yesterday
    yesterday = dt_util.start_of_local_day() - timedelta(days=1)
    attributes = {"state_class": "total", "last_reset": yesterday.isoformat()}
    saved = {"native_value": 7, "native_unit_of_measurement": None}
    mock_restore_cache_with_extra_data(hass, [(State(ENTITY, "7", attributes), saved)])

    # When Home Assistant starts with the camera
    await setup_folder_camera(hass, config_dir)

    # Then the count is 0
    assert hass.states.get(ENTITY).state == "0"
