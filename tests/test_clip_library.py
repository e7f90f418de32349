"""The clip library in Media: cameras, days, pages; local clips play, Dropbox
clips link out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.clip_library import PAGE_SIZE
from custom_components.homesec.const import EVENT_DETECTION
from custom_components.homesec.engine.models import (
    AnalysisResult,
    Box,
    ClipState,
    ClipStatus,
    Detection,
    FilterResult,
    RiskLevel,
)

from .helpers import setup_folder_camera, wait_for

ROOT = "media-source://homesec"
DAYS = {
    datetime(2026, 11, 20, tzinfo=UTC): 700,
    datetime(2026, 11, 21, tzinfo=UTC): 700,
    datetime(2026, 11, 22, tzinfo=UTC): 600,
}


def history_state(start: datetime, n: int) -> ClipState:
    """A finished clip of the front door; every tenth one had a delivery."""
    clip_id = f"front_door_{start:%Y%m%d_%H%M%S}"
    state = ClipState(
        clip_id=clip_id,
        camera_name="front_door",
        local_path=f"/nowhere/{clip_id}.mp4",
        start_ts=start,
        status=ClipStatus.DONE,
        storage_uri=f"dropbox:/HomeSec/front_door/{clip_id}.mp4",
        view_url=f"https://www.dropbox.com/home/HomeSec/front_door?preview={clip_id}",
    )
    if n % 10 == 0:
        person = Detection(
            label="person", confidence=0.9, box=Box(x1=0, y1=0, x2=1, y2=1), frame_ts=1
        )
        state.filter_result = FilterResult(
            detected_classes=["person"], confidence=0.9, frames_sampled=4,
            model="yolo", best=person, detections=[person],
        )  # fmt: skip
        state.analysis = AnalysisResult(
            risk_level=RiskLevel.MEDIUM, activity_type="delivery", summary="A parcel."
        )
    return state


async def test_browsing_two_thousand_clips_by_pages(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, config_dir: Path
) -> None:
    """Days list their counts; each page holds 100 clips, newest first."""
    # Given a camera with 2,000 clips over three days (UTC)
    await hass.config.async_set_time_zone("UTC")
    assert await async_setup_component(hass, "media_source", {})
    entry, _ = await setup_folder_camera(hass, config_dir)
    repository = entry.runtime_data.engine.repository
    for day, count in DAYS.items():
        for n in range(count):
            await repository.save(history_state(day + timedelta(seconds=30 * n), n))
    assert await repository.flush()

    # When the library is opened, then the camera, then its days
    root = await media_source.async_browse_media(hass, ROOT)
    camera = await media_source.async_browse_media(hass, f"{ROOT}/camera/front_door")

    # Then the camera and its three days are listed, newest first, with counts
    assert [c.title for c in root.children] == ["Front door"]
    assert [c.title for c in camera.children] == [
        "Sun 22 Nov 2026 (600)",
        "Sat 21 Nov 2026 (700)",
        "Fri 20 Nov 2026 (700)",
    ]

    # When a day is read page by page
    seen: list[str] = []
    identifier: str | None = camera.children[1].media_content_id
    pages = 0
    while identifier is not None:
        page = await media_source.async_browse_media(hass, identifier)
        clips = [c for c in page.children if c.can_play]
        assert len(clips) <= PAGE_SIZE
        seen += [c.media_content_id for c in clips]
        more = [c for c in page.children if c.can_expand]
        identifier = more[0].media_content_id if more else None
        pages += 1

    # Then all 700 clips came in 7 pages, newest first, none twice
    assert pages == 7
    assert len(seen) == len(set(seen)) == 700
    assert seen == sorted(seen, reverse=True)
    first = await media_source.async_browse_media(
        hass, camera.children[1].media_content_id
    )
    newest = first.children[0]
    assert newest.title == "05:49:30"
    delivery = next(c for c in first.children if "delivery" in c.title)
    assert delivery.title.endswith("person · delivery (medium risk)")
    assert delivery.thumbnail.startswith("/api/homesec/snapshots/")
    assert "authSig=" in delivery.thumbnail

    # When a clip kept only in Dropbox is played, then it links out to Dropbox
    played = await media_source.async_resolve_media(hass, newest.media_content_id, None)
    assert played.url.startswith("https://www.dropbox.com/home/HomeSec/front_door")
    view = await (await hass_client()).get(
        f"/api/homesec/clips/{newest.media_content_id.rsplit('/', 1)[1]}",
        allow_redirects=False,
    )
    assert view.status == 302
    assert view.headers["Location"] == played.url


async def test_a_local_clip_plays_in_home_assistant(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    config_dir: Path,
    motion_clip: Path,
) -> None:
    """A processed clip is listed under today and plays through its view."""
    # Given a camera that processed one clip
    assert await async_setup_component(hass, "media_source", {})
    entry, drop = await setup_folder_camera(hass, config_dir)
    detections = async_capture_events(hass, EVENT_DETECTION)
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: bool(detections), what="the clip")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    clip_id = detections[0].data["clip_id"]

    # When today's folder is opened and the clip is played
    camera = await media_source.async_browse_media(hass, f"{ROOT}/camera/front_door")
    day = await media_source.async_browse_media(
        hass, camera.children[0].media_content_id
    )
    item = day.children[0]
    played = await media_source.async_resolve_media(hass, item.media_content_id, None)

    # Then it is titled with its time and detection, and its URL serves the video
    assert item.media_content_id == f"{ROOT}/clip/{clip_id}"
    assert item.title.endswith("motion")
    assert played.mime_type == "video/mp4"
    assert played.url == f"/api/homesec/clips/{clip_id}"
    response = await (await hass_client()).get(played.url)
    assert response.status == 200
    assert await response.read() == motion_clip.read_bytes()
