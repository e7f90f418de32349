"""Clips whose upload failed are stored once the storage is back."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import shutil

from homeassistant.core import HomeAssistant
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.homesec.const import EVENT_ALERT, EVENT_DETECTION
from custom_components.homesec.engine.models import Stage

from .helpers import FolderHub, wait_for


def _break(store: Path) -> None:
    """Storage down: a file stands where the clip store's folder should be."""
    shutil.rmtree(store, ignore_errors=True)
    store.write_text("not a folder")


async def test_a_failed_upload_is_stored_when_the_storage_is_back(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """The clip alerts without a link, then is stored once; nothing runs twice."""
    # Given a hub whose clip store cannot be written
    entry, drop = folder_hub.entry, folder_hub.folder
    store = config_dir / "homesec" / "clips"
    await hass.async_add_executor_job(_break, store)
    alerts = async_capture_events(hass, EVENT_ALERT)
    detections = async_capture_events(hass, EVENT_DETECTION)
    hub = entry.runtime_data
    pipeline = hub.engine.pipeline

    # When a clip arrives during the outage
    await hass.async_add_executor_job(
        (drop / "clip.mp4").write_bytes, motion_clip.read_bytes()
    )
    await wait_for(lambda: len(alerts) == 1, what="the alert")
    await wait_for(lambda: pipeline.in_flight == 0, what="idle")
    clip_id = alerts[0].data["clip_id"]
    failed = await hub.engine.repository.get(clip_id)

    # Then it alerted without a link, and nothing is stored yet
    assert alerts[0].data["upload_failed"] is True
    assert failed is not None
    assert failed.storage_uri is None, failed.stages
    assert not hub.health.storage_reachable

    # When the storage works again and its next check comes
    await hass.async_add_executor_job(store.unlink)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=6))
    copy = store / "front_door" / f"{clip_id}.mp4"
    await wait_for(copy.is_file, what="the stored copy")
    await wait_for(lambda: pipeline.in_flight == 0, what="idle again")

    # Then the clip is stored, recorded as stored, and nothing ran again
    stored = await hub.engine.repository.get(clip_id)
    assert stored is not None
    assert stored.storage_uri == f"local:front_door/{clip_id}.mp4"
    assert stored.done(Stage.UPLOAD)
    assert hub.health.storage_reachable
    assert (len(alerts), len(detections)) == (1, 1)
