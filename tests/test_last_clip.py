"""Last clip and Analyze last clip: the newest clip by start, never a failed one."""

from __future__ import annotations

from datetime import datetime, timedelta
import ftplib
import os
from pathlib import Path
import socket

from homeassistant.components import camera, media_source
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest

from custom_components.homesec.const import SUBENTRY_CAMERA, camera_signal
from custom_components.homesec.engine.detect.frames import still_jpeg
from custom_components.homesec.engine.models import (
    ClipFinished,
    ClipStatus,
    LifecycleEvent,
)
from custom_components.homesec.engine.spool import SpoolEntry

from .helpers import FolderHub, setup_hub, wait_for

ROOT = "media-source://homesec"
LAST_CLIP = "sensor.front_door_last_clip"
ANALYZE = "button.front_door_analyze_last_clip"


def follow(hass: HomeAssistant, entry: ConfigEntry) -> list[ClipFinished]:
    """The front door's clips as they finish, in order."""
    finished: list[ClipFinished] = []

    @callback
    def _on_event(event: LifecycleEvent) -> None:
        if isinstance(event, ClipFinished):
            finished.append(event)

    entry.async_on_unload(
        async_dispatcher_connect(
            hass, camera_signal(entry.entry_id, "front_door"), _on_event
        )
    )
    return finished


def drop(folder: Path, name: str, data: bytes, started: datetime | None = None) -> None:
    """Drop a file into the camera's folder, its time set to ``started``."""
    path = folder / name
    path.write_bytes(data)
    if started is not None:
        os.utime(path, (started.timestamp(), started.timestamp()))


async def press(hass: HomeAssistant) -> None:
    """Press Analyze last clip as the UI does."""
    await hass.services.async_call(
        "button", "press", {"entity_id": ANALYZE}, blocking=True
    )


def shown(hass: HomeAssistant) -> tuple[datetime | None, dict[str, object]]:
    """The Last clip sensor's time and attributes."""
    state = hass.states.get(LAST_CLIP)
    assert state is not None
    return dt_util.parse_datetime(state.state), dict(state.attributes)


async def test_last_clip_follows_the_newest_clip_by_start_time(
    hass: HomeAssistant, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """An older clip arriving late moves neither Last clip nor Analyze last clip."""
    # Given a folder camera that processed a clip, named by the camera
    entry, folder = folder_hub.entry, folder_hub.folder
    finished = follow(hass, entry)
    drop(folder, "newer.mp4", motion_clip.read_bytes())
    await wait_for(lambda: len(finished) == 1, what="the newer clip")
    newer = finished[0].clip

    # When a clip recorded an hour earlier arrives after it (a late copy)
    hour_ago = dt_util.utcnow() - timedelta(hours=1)
    drop(folder, "older.mp4", motion_clip.read_bytes(), hour_ago)
    await wait_for(lambda: len(finished) == 2, what="the older clip")
    older = finished[1].clip

    # Then the older clip was processed, yet Last clip still shows the newer
    # one, with the name the file had in the folder
    assert older.start_ts < newer.start_ts
    assert older.original_name == "older.mp4"
    when, attributes = shown(hass)
    assert when == newer.start_ts.replace(microsecond=0)
    assert attributes["clip_id"] == newer.clip_id
    assert attributes["original_name"] == "newer.mp4"

    # When Analyze last clip is pressed
    await press(hass)
    await wait_for(lambda: len(finished) == 3, what="the clip analyzed again")

    # Then the newer clip ran again, not the one submitted last
    assert finished[2].clip.clip_id == newer.clip_id
    assert finished[2].clip.original_name == "newer.mp4"

    # When Home Assistant reloads the hub
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    # Then Last clip kept its clip and name
    when, attributes = shown(hass)
    assert when == newer.start_ts.replace(microsecond=0)
    assert attributes["clip_id"] == newer.clip_id
    assert attributes["original_name"] == "newer.mp4"

    # When the button is pressed again, then the newer clip runs again
    finished = follow(hass, entry)
    await press(hass)
    await wait_for(lambda: len(finished) == 1, what="the clip after the reload")
    assert finished[0].clip.clip_id == newer.clip_id
    assert finished[0].clip.original_name == "newer.mp4"


async def test_a_failed_clip_does_not_move_last_clip(
    hass: HomeAssistant, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """A corrupt file dropped after a good clip changes neither sensor nor button."""
    # Given a camera whose last clip is a good one
    entry, folder = folder_hub.entry, folder_hub.folder
    finished = follow(hass, entry)
    drop(folder, "good.mp4", motion_clip.read_bytes())
    await wait_for(lambda: len(finished) == 1, what="the good clip")
    good = finished[0].clip
    before = shown(hass)

    # When a corrupt file is dropped into the folder, newer than the good clip
    drop(folder, "broken.mp4", b"this is not a video")
    await wait_for(lambda: len(finished) == 2, what="the corrupt clip")
    broken = finished[1]

    # Then its processing failed, and its state keeps the file's name
    assert broken.status is ClipStatus.ERROR
    assert broken.clip.start_ts > good.start_ts
    state = await entry.runtime_data.engine.repository.get(broken.clip.clip_id)
    assert state is not None
    assert (state.status, state.not_a_video, state.original_name) == (
        ClipStatus.ERROR,
        True,
        "broken.mp4",
    )

    # And Last clip still shows the good clip
    assert shown(hass) == before
    assert before[1]["clip_id"] == good.clip_id

    # When the camera's picture is asked for and Analyze last clip is pressed
    picture = await camera.async_get_image(hass, "camera.front_door")
    await press(hass)
    await wait_for(lambda: len(finished) == 3, what="the clip analyzed again")

    # Then both are the good clip's
    assert picture.content == await hass.async_add_executor_job(
        still_jpeg, good.local_path
    )
    assert finished[2].clip.clip_id == good.clip_id
    assert finished[2].status is ClipStatus.DONE


async def test_the_last_clip_is_looked_up_once_per_change(
    hass: HomeAssistant,
    folder_hub: FolderHub,
    motion_clip: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The camera's picture, asked for often, lists the spool once per new clip."""
    # Given a camera with a processed clip, its spool listings counted
    entry, folder = folder_hub.entry, folder_hub.folder
    spool = entry.runtime_data.engine.spool
    listings: list[str] = []
    newest_first = spool.newest_first

    def counting(camera_id: str) -> list[SpoolEntry]:
        listings.append(camera_id)
        return newest_first(camera_id)

    monkeypatch.setattr(spool, "newest_first", counting)
    finished = follow(hass, entry)
    drop(folder, "first.mp4", motion_clip.read_bytes())
    await wait_for(lambda: len(finished) == 1, what="the first clip")

    # When the picture is asked for three times
    for _ in range(3):
        await camera.async_get_image(hass, "camera.front_door")

    # Then the spool was listed once
    assert listings == ["front_door"]

    # When a newer clip is processed and the picture asked for twice
    drop(folder, "second.mp4", motion_clip.read_bytes())
    await wait_for(lambda: len(finished) == 2, what="the second clip")
    clips = entry.runtime_data.clips
    first = await clips.async_last_clip("front_door")
    again = await clips.async_last_clip("front_door")

    # Then the spool was listed once more, and the newer clip is the last one
    assert listings == ["front_door", "front_door"]
    assert first == again
    assert first is not None
    assert first.clip_id == finished[1].clip.clip_id


async def test_an_ftp_clip_keeps_the_name_the_camera_gave_it(
    hass: HomeAssistant, config_dir: Path, socket_enabled: None, motion_clip: Path
) -> None:
    """The upload's path shows in the clip's state, Last clip and the library."""
    # Given an FTP camera added through its form
    assert await async_setup_component(hass, "media_source", {})
    entry = await setup_hub(hass)
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Gate", "source_type": "ftp"}
    )
    with socket.socket() as probe:  # a free port for the camera's server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"port": port, "allow_anonymous": False, "max_upload_mb": 50,
         "username": "gate", "password": "pw"},
    )  # fmt: skip
    await hass.async_block_till_done()

    # When the camera uploads a clip into a dated folder
    def upload() -> None:
        client = ftplib.FTP()
        client.connect("127.0.0.1", port, timeout=10)
        client.login("gate", "pw")
        client.mkd("2026-11-24")
        with motion_clip.open("rb") as file:
            client.storbinary("STOR 2026-11-24/MD_101502.mp4", file)
        client.quit()

    await hass.async_add_executor_job(upload)
    await wait_for(
        lambda: hass.states.get("sensor.gate_last_clip").state != "unknown",
        what="the uploaded clip",
    )

    # Then Last clip, the clip's state and its library entry carry that name
    attributes = hass.states.get("sensor.gate_last_clip").attributes
    assert attributes["original_name"] == "2026-11-24/MD_101502.mp4"
    state = await entry.runtime_data.engine.repository.get(attributes["clip_id"])
    assert state is not None
    assert state.original_name == "2026-11-24/MD_101502.mp4"
    gate = await media_source.async_browse_media(hass, f"{ROOT}/camera/gate")
    day = await media_source.async_browse_media(hass, gate.children[0].media_content_id)
    assert day.children[0].title.endswith(" · 2026-11-24/MD_101502.mp4")
    await hass.config_entries.async_unload(entry.entry_id)
