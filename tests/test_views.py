"""Clip and snapshot views: authentication, signed links, and what they serve."""

from __future__ import annotations

from datetime import timedelta
import os
from pathlib import Path

from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import EVENT_ALERT
from custom_components.homesec.engine.models import Clip, ClipState
from custom_components.homesec.links import signed

from .helpers import FolderHub, add_camera, setup_onnx_hub, wait_for


async def test_views_need_auth_or_a_valid_signature(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """401 without auth or with an expired signature; 200 with either."""
    # Given a person clip that raised an alert with its links
    entry = await setup_onnx_hub(hass, red_model)
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop)
    alerts = async_capture_events(hass, EVENT_ALERT)
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: bool(alerts), what="the alert")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    alert = alerts[0].data
    clip_id = alert["clip_id"]
    assert alert["snapshot_url"] == f"/api/homesec/snapshots/{clip_id}"
    assert alert["clip_url"] == f"/api/homesec/clips/{clip_id}"
    anonymous = await hass_client_no_auth()
    user = await hass_client()

    # When the views are asked without auth, with auth, signed and expired
    answers = {}
    for name, url in (("snapshot", alert["snapshot_url"]), ("clip", alert["clip_url"])):
        answers[name] = [
            (await anonymous.get(url)).status,
            (await user.get(url)).status,
            (await anonymous.get(signed(hass, url))).status,
            (await anonymous.get(signed(hass, url, timedelta(seconds=-1)))).status,
        ]

    # Then only authenticated or validly signed requests get the files
    assert answers == {"snapshot": [401, 200, 200, 401], "clip": [401, 200, 200, 401]}
    snapshot = await user.get(alert["snapshot_url"])
    assert snapshot.content_type == "image/jpeg"
    assert (await snapshot.read()).startswith(b"\xff\xd8")
    clip = await user.get(alert["clip_url"])
    assert await clip.read() == red_clip.read_bytes()

    # When Home Assistant restarts HomeSec, the snapshot comes from disk
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    again = await user.get(alert["snapshot_url"])
    assert again.status == 200

    # When the snapshot is older than the spool's age limit and cleanup runs
    snapshot_file = config_dir / "homesec" / "snapshots" / f"{clip_id}.jpg"
    old_time = (dt_util.utcnow() - timedelta(days=40)).timestamp()
    os.utime(snapshot_file, (old_time, old_time))
    await hass.services.async_call("homesec", "cleanup", {}, blocking=True)

    # Then it is gone with it
    assert not snapshot_file.exists()
    assert (await user.get(alert["snapshot_url"])).status == 404

    # And unknown or malformed clip ids are not found; traversal is refused
    for bad in ("nothing_20260101_000000", "a.b", ".hidden"):
        assert (await user.get(f"/api/homesec/clips/{bad}")).status == 404
        assert (await user.get(f"/api/homesec/snapshots/{bad}")).status == 404
    traversal = await user.get("/api/homesec/clips/..%2F..%2Fsecrets")
    assert traversal.status in (400, 404)


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        (".ts", "video/mp2t"),
        (".mp4", "video/mp4"),
        (".MP4", "video/mp4"),
        (".mkv", "video/x-matroska"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".png", "image/png"),
        (".weird", "application/octet-stream"),
        ("", "application/octet-stream"),
    ],
)
async def test_served_files_have_the_right_content_type(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    folder_hub: FolderHub,
    suffix: str,
    expected: str,
) -> None:
    """Clips and pictures are served as what they are, unknown ones as bytes."""
    # Given a spooled clip file of that type, known to the state store
    assert await async_setup_component(hass, "media_source", {})
    engine = folder_hub.entry.runtime_data.engine
    clip_id = "front_door_20261124_120000"
    path = engine.spool.camera_dir("front_door") / f"{clip_id}{suffix}"
    await hass.async_add_executor_job(_write, path, b"content")
    clip = Clip(
        clip_id=clip_id,
        camera_name="front_door",
        local_path=path,
        start_ts=dt_util.utcnow(),
        source_type="folder",
    )
    await engine.repository.save(ClipState.for_clip(clip))
    await engine.repository.flush()

    # When the clip view serves it, and the media source resolves it
    response = await (await hass_client()).get(f"/api/homesec/clips/{clip_id}")
    media = await media_source.async_resolve_media(
        hass, f"media-source://homesec/clip/{clip_id}", None
    )

    # Then both give its type, and browsers are told not to guess another
    assert response.status == 200
    assert response.content_type == expected
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert await response.read() == b"content"
    assert media.mime_type == expected


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def test_clip_views_answer_head_like_get(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    folder_hub: FolderHub,
) -> None:
    """HEAD gives GET's status and headers without the body, for every answer."""
    # Given a spooled clip with a snapshot, known to the state store
    hub = folder_hub.entry.runtime_data
    engine = hub.engine
    clip_id = "front_door_20261124_120000"
    path = engine.spool.camera_dir("front_door") / f"{clip_id}.mp4"
    await hass.async_add_executor_job(_write, path, b"m" * 1234)
    clip = Clip(
        clip_id=clip_id,
        camera_name="front_door",
        local_path=path,
        start_ts=dt_util.utcnow(),
        source_type="folder",
    )
    await engine.repository.save(ClipState.for_clip(clip))
    await engine.repository.flush()
    jpeg = b"\xff\xd8" + b"j" * 98
    await engine.snapshots.keep(clip_id, jpeg)
    user = await hass_client()
    anonymous = await hass_client_no_auth()
    clip_url, snapshot_url = (
        f"/api/homesec/clips/{clip_id}",
        (f"/api/homesec/snapshots/{clip_id}"),
    )

    # When the clip and its snapshot are asked with HEAD and with GET
    heads = [await user.head(url) for url in (clip_url, snapshot_url)]
    gets = [await user.get(url) for url in (clip_url, snapshot_url)]

    # Then HEAD has GET's status, type and length, and no body
    for head, get in zip(heads, gets, strict=True):
        assert head.status == get.status == 200
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
        assert head.headers["Content-Length"] == get.headers["Content-Length"]
        assert await head.read() == b""
    assert [int(head.headers["Content-Length"]) for head in heads] == [1234, 100]
    assert heads[0].headers["Content-Type"] == "video/mp4"
    assert heads[1].headers["Content-Type"] == "image/jpeg"

    # When HEAD asks, without a login, with a signed link (the library's and
    # notifications'), and for what GET refuses: unknown, unsigned, expired
    expired = hub.links.sign(clip_url, timedelta(seconds=-1))
    asked = {
        "signed by Home Assistant": (anonymous, signed(hass, clip_url)),
        "signed by HomeSec": (anonymous, hub.links.sign(snapshot_url)),
        "unknown": (user, "/api/homesec/clips/front_door_20260101_000000"),
        "no snapshot": (user, "/api/homesec/snapshots/front_door_20260101_000000"),
        "no credential": (anonymous, clip_url),
        "expired link": (anonymous, expired),
    }
    answers = {
        what: ((await client.head(url)).status, (await client.get(url)).status)
        for what, (client, url) in asked.items()
    }

    # Then HEAD answers as GET does
    assert answers == {
        "signed by Home Assistant": (200, 200),
        "signed by HomeSec": (200, 200),
        "unknown": (404, 404),
        "no snapshot": (404, 404),
        "no credential": (401, 401),
        "expired link": (403, 403),
    }
