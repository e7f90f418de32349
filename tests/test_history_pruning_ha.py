"""The hub prunes old clip history after the age set in its options."""

from __future__ import annotations

from datetime import timedelta
import logging
from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (  # type: ignore[import-untyped]
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (  # type: ignore[import-untyped]
    ClientSessionGenerator,
)
from sqlalchemy import select, update

from custom_components.homesec.const import SPOOL_PATH
from custom_components.homesec.engine.models import ClipState, ClipStatus, Stage
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    clip_states,
    sqlite_url,
)
from custom_components.homesec.history_pruning import (
    HISTORY_PRUNE_INTERVAL,
    HistoryPrune,
)
from custom_components.homesec.settings import HUB_DEFAULTS

from .helpers import FolderHub, set_options, wait_for

CAMERA = "front_door"
NOTHING = HistoryPrune(
    at=dt_util.utcnow(),
    older_than=dt_util.utcnow(),
    states=0,
    events=0,
    kept_states=0,
    kept_events=0,
    complete=True,
)


async def _old_clips(config_dir: Path, clip_ids: list[str], days: int) -> None:
    """Finished, stored clips whose history was last changed ``days`` ago."""
    store = SQLAlchemyStateStore(sqlite_url(config_dir / HUB_DEFAULTS.sqlite_path))
    await store.start()
    states = []
    for clip_id in clip_ids:
        state = ClipState(clip_id=clip_id, camera_name=CAMERA, local_path="/x.mp4")
        state.status = ClipStatus.DONE
        state.stages[Stage.UPLOAD].status = state.stages[Stage.UPLOAD].status.DONE
        state.storage_uri = f"local://{clip_id}.mp4"
        states.append(state)
    await store.write(states, [])
    async with store.engine.begin() as conn:
        await conn.execute(
            update(clip_states).values(
                updated_at=dt_util.utcnow() - timedelta(days=days)
            )
        )
    await store.close()


async def _stored_ids(config_dir: Path) -> set[str]:
    store = SQLAlchemyStateStore(sqlite_url(config_dir / HUB_DEFAULTS.sqlite_path))
    await store.start()
    async with store.engine.connect() as conn:
        found = set((await conn.execute(select(clip_states.c.clip_id))).scalars())
    await store.close()
    return found


async def test_history_older_than_the_option_is_pruned_and_reported(
    hass: HomeAssistant,
    folder_hub: FolderHub,
    config_dir: Path,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With a 30-day limit, clips 40 days old lose their history unless kept.

    A clip still in the spool, or whose copy is still in the clip store (it is
    in the library), keeps its history.
    """
    # Given a hub keeping history 90 days (the default), four clips last
    # changed 40 days ago, one of them still in the spool, one still stored
    entry = folder_hub.entry
    assert entry.runtime_data.runtime.history_max_age == timedelta(days=90)
    # (the stored one recorded recently: the clip store's own limits keep it)
    old = [f"{CAMERA}_20260101_00000{n}" for n in range(3)]
    old.append(f"{CAMERA}_20261120_000003")
    await _old_clips(config_dir, old, days=40)
    spooled = config_dir / SPOOL_PATH / CAMERA / f"{old[0]}.mp4"
    stored = config_dir / HUB_DEFAULTS.storage_path / CAMERA / f"{old[3]}.mp4"
    for path in (spooled, stored):
        await hass.async_add_executor_job(path.parent.mkdir, 0o755, True, True)
        await hass.async_add_executor_job(path.write_bytes, b"clip")

    # When the user sets the history age limit to 30 days in the options
    await set_options(hass, entry, history_max_days=30)
    runtime = entry.runtime_data.runtime
    await wait_for(lambda: runtime.last_history_prune is not None, what="pruning")

    # Then the two clips neither spooled nor stored lost their history; the
    # others kept it
    assert await _stored_ids(config_dir) == {old[0], old[3]}
    # Then the pass is logged with its counts and shown in the diagnostics
    assert "History pruning deleted 2 clip states and 0 events" in caplog.text
    assert await async_setup_component(hass, "diagnostics", {})
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    record = diagnostics["last_history_prune"]
    assert (record["states"], record["kept_states"], record["complete"]) == (
        2,
        2,
        True,
    )


async def test_a_zero_limit_keeps_history_for_ever(
    hass: HomeAssistant,
    folder_hub: FolderHub,
    config_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """0 days means no pruning at all."""
    # Given clips last changed ten years ago
    old = [f"{CAMERA}_20160101_00000{n}" for n in range(2)]
    await _old_clips(config_dir, old, days=3650)

    # When the history age limit is set to 0 and the hub has started again
    caplog.set_level(logging.INFO)
    await set_options(hass, folder_hub.entry, history_max_days=0)
    runtime = folder_hub.entry.runtime_data.runtime
    await hass.async_block_till_done()

    # Then no pruning runs and the clips keep their history
    assert runtime.history_max_age is None
    assert await runtime.async_prune_history() is None
    assert await _stored_ids(config_dir) == set(old)
    assert "History pruning" not in caplog.text


async def test_pruning_runs_again_every_six_hours(
    hass: HomeAssistant, folder_hub: FolderHub, config_dir: Path
) -> None:
    """History that ages past the limit while the hub runs is pruned by the timer."""
    # Given a running hub that has pruned at start, and then clips 100 days old
    runtime = folder_hub.entry.runtime_data.runtime
    await wait_for(lambda: runtime.last_history_prune is not None, what="pruning")
    old = [f"{CAMERA}_20250101_00000{n}" for n in range(2)]
    await _old_clips(config_dir, old, days=100)

    # When six hours pass
    async_fire_time_changed(hass, dt_util.utcnow() + HISTORY_PRUNE_INTERVAL)
    await wait_for(
        lambda: (runtime.last_history_prune or NOTHING).states == 2, what="pruning"
    )

    # Then those clips lost their history
    assert await _stored_ids(config_dir) == set()
