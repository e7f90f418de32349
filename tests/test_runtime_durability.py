"""In Home Assistant: recovery after a restart, degraded health, retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
import os
from pathlib import Path
import shutil

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.homesec import (
    builder as builder_module,
    runtime as runtime_module,
)
from custom_components.homesec.const import DOMAIN, EVENT_ALERT
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.hub_fields import NEW_HUB
from custom_components.homesec.hub_health import HealthStatus

from .helpers import FolderHub, wait_for


async def test_restart_resumes_a_spooled_clip_once(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """A clip left in the spool by a crash is processed after restart, once."""
    # Given a hub that processed one clip and was then stopped
    entry, drop = folder_hub.entry, folder_hub.folder
    alerts = async_capture_events(hass, EVENT_ALERT)
    (drop / "first.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(alerts) == 1, what="the first alert")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
    # ... with a second clip already moved into the spool before the stop
    spooled = config_dir / "homesec" / "spool" / "front_door"
    shutil.copyfile(motion_clip, spooled / "front_door_20261124_120000.mp4")

    # When Home Assistant starts the hub again
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await wait_for(lambda: len(alerts) == 2, what="the resumed clip's alert")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )

    # Then only the unfinished clip was processed again
    assert alerts[1].data["clip_id"] == "front_door_20261124_120000"
    assert len(alerts) == 2


async def test_unreachable_state_store_degrades_but_alerts(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path
) -> None:
    """With the database unwritable, health is degraded and alerts still go out."""
    # Given a hub whose SQLite file cannot be created (its folder is a file)
    (config_dir / "blocked").write_text("not a folder")
    drop = config_dir / "drop"
    drop.mkdir()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        data=NEW_HUB | {"sqlite_path": "blocked/homesec.db"},
        subentries_data=[
            ConfigSubentryData(
                subentry_type="camera",
                title="Front door",
                unique_id="front_door",
                data={
                    "camera_id": "front_door",
                    "source_type": "folder",
                    "watch_folder": str(drop),
                    "settle_seconds": 1.0,
                    "notify_on_motion": "on",
                },
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    alerts = async_capture_events(hass, EVENT_ALERT)

    # When a clip arrives
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(alerts) == 1, what="an alert without a database")

    # Then it alerted, and the hub reports degraded health because of the store
    health = entry.runtime_data.health.health()
    assert health.status is HealthStatus.DEGRADED
    assert health.checks == {
        "state_store": False,
        "detector": True,
        "front_door": True,
    }
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )

    # When it lasts ten minutes, then a repair issue says why in words
    start = dt_util.utcnow()
    entry.runtime_data.health.check(start)
    entry.runtime_data.health.check(start + timedelta(minutes=10, seconds=1))
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"state_store_unreachable_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {"error": "file or folder not found"}
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_retention_dry_run_through_the_runtime(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """The runtime's retention lists finished, stored clips over the limit."""
    # Given a hub that processed a clip, with a spool limit of zero bytes
    entry, drop = folder_hub.entry, folder_hub.folder
    alerts = async_capture_events(hass, EVENT_ALERT)
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(alerts) == 1, what="an alert")
    hub = entry.runtime_data
    await wait_for(lambda: hub.engine.pipeline.in_flight == 0, what="idle")
    runtime = hub.runtime
    runtime.retention = runtime.retention.model_copy(update={"max_bytes": 0})

    # When a dry run is asked for, then it lists the clip and keeps it
    plan = await runtime.async_retention(dry_run=True)
    assert plan.delete == [alerts[0].data["clip_id"]]
    spooled = config_dir / "homesec" / "spool" / "front_door"
    assert any(spooled.iterdir())

    # When retention runs, then the spooled copy is gone and storage keeps its copy
    await runtime.async_retention()
    assert not any(p for p in spooled.iterdir() if not p.name.startswith("."))
    assert any((config_dir / "homesec" / "clips" / "front_door").iterdir())


async def test_retention_keeps_clips_the_pipeline_holds(
    hass: HomeAssistant,
    folder_hub: FolderHub,
    motion_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A finished, stored clip queued again is not deleted by retention."""
    # Given a processed, stored clip over a spool limit of zero bytes
    entry, drop = folder_hub.entry, folder_hub.folder
    alerts = async_capture_events(hass, EVENT_ALERT)
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(alerts) == 1, what="an alert")
    hub = entry.runtime_data
    pipeline = hub.engine.pipeline
    await wait_for(lambda: pipeline.in_flight == 0, what="idle")
    runtime = hub.runtime
    runtime.retention = runtime.retention.model_copy(update={"max_bytes": 0})
    clip_id = alerts[0].data["clip_id"]

    # When the pipeline holds the clip again (queued, its new state not yet
    # written) while retention runs
    monkeypatch.setattr(pipeline, "is_queued", lambda queued: queued == clip_id)
    plan = await runtime.async_retention()

    # Then retention keeps it, and says why
    assert plan.delete == []
    assert plan.kept_unsafe == [clip_id]


async def test_ids_are_learnt_when_the_store_answers_after_a_start_without_it(
    hass: HomeAssistant,
    config_dir: Path,
    folder_hub: FolderHub,
    motion_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An id removed in an earlier run stays taken when the store was down at start."""
    # Given a clip of 10:15:00 that was stored, then removed from the spool
    entry, drop = folder_hub.entry, folder_hub.folder
    alerts = async_capture_events(hass, EVENT_ALERT)
    video = motion_clip.read_bytes()
    when = datetime(2026, 11, 24, 10, 15, tzinfo=UTC).timestamp()
    await hass.async_add_executor_job(_drop_at, drop / "a.mp4", video, when)
    await wait_for(lambda: len(alerts) == 1, what="the first clip")
    hub = entry.runtime_data
    await wait_for(lambda: hub.engine.pipeline.in_flight == 0, what="idle")
    hub.runtime.retention = hub.runtime.retention.model_copy(update={"max_bytes": 0})
    assert (await hub.runtime.async_retention()).delete == [alerts[0].data["clip_id"]]
    assert await hass.config_entries.async_unload(entry.entry_id)

    # ... and Home Assistant started again while the database could not be opened
    monkeypatch.setattr(runtime_module, "RECOVERY_RETRY_SECONDS", 0.2)
    monkeypatch.setattr(
        builder_module, "ClipRepository", partial(ClipRepository, retry_interval=0.2)
    )
    database = config_dir / "homesec" / "homesec.db"
    aside = config_dir / "homesec.db.aside"
    await hass.async_add_executor_job(_put_aside, database, aside)
    try:
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert not entry.runtime_data.engine.repository.healthy
    finally:
        await hass.async_add_executor_job(_put_back, aside, database)

    # When the database answers again, and a clip of the same second arrives
    # (a camera clock set back)
    await wait_for(
        lambda: entry.runtime_data.engine.repository.healthy, what="the store"
    )
    await asyncio.sleep(0.5)  # past a recovery retry
    other = video + b"\0" * 16
    await hass.async_add_executor_job(_drop_at, drop / "b.mp4", other, when)
    await wait_for(lambda: len(alerts) == 2, what="the second clip")

    # Then it has an id of its own and is stored
    first, second = (event.data for event in alerts)
    assert second["clip_id"] != first["clip_id"]
    assert second["upload_failed"] is False
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )


def _drop_at(path: Path, data: bytes, when: float) -> None:
    """Put a file into a watched folder with the time a camera gave it."""
    hidden = path.with_name(f".{path.name}")
    hidden.write_bytes(data)
    os.utime(hidden, (when, when))
    hidden.rename(path)


def _put_aside(database: Path, aside: Path) -> None:
    """Move the database away and leave a folder in its place (it cannot open)."""
    database.rename(aside)
    database.mkdir()


def _put_back(aside: Path, database: Path) -> None:
    """Give the database back."""
    database.rmdir()
    aside.rename(database)
