"""The clip library in Media: cameras, days, pages; local clips play, Dropbox
clips link out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.components import media_source
from homeassistant.components.media_source import Unresolvable
from homeassistant.core import HomeAssistant
from homeassistant.helpers import translation
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.clip_library import FAILED_ICON, PAGE_SIZE
from custom_components.homesec.const import DOMAIN, EVENT_DETECTION
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
    delivery = next(c for c in first.children if "Delivery" in c.title)
    assert delivery.title.endswith("person · Delivery (medium risk)")
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

    # Then it is titled with its time, detection and the file's name in the
    # folder, and its URL serves the video
    assert item.media_content_id == f"{ROOT}/clip/{clip_id}"
    assert item.title.endswith(" · motion · clip.mp4")
    assert item.can_play
    assert played.mime_type == "video/mp4"
    assert played.url == f"/api/homesec/clips/{clip_id}"
    response = await (await hass_client()).get(played.url)
    assert response.status == 200
    assert await response.read() == motion_clip.read_bytes()


async def test_a_failed_clip_is_marked_in_the_library(
    hass: HomeAssistant, config_dir: Path, audio_only_clip: Path
) -> None:
    """A failed clip says so with a warning icon; one that is not a video won't play."""
    # Given a camera that was handed a corrupt file and a sound recording, and
    # a clip whose detection failed for another reason (it is still a video)
    await hass.config.async_set_time_zone("UTC")
    assert await async_setup_component(hass, "media_source", {})
    entry, drop = await setup_folder_camera(hass, config_dir)
    repository = entry.runtime_data.engine.repository
    for name, data in (
        ("broken.mp4", b"this is not a video"),
        ("sound.mp4", audio_only_clip.read_bytes()),
    ):
        seen = entry.runtime_data.clips.seen("front_door")
        (drop / name).write_bytes(data)
        await wait_for(
            lambda seen=seen: entry.runtime_data.clips.seen("front_door") != seen,
            what=name,
        )
        await wait_for(
            lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
        )
    earlier = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    failed_video = history_state(earlier, 1)
    failed_video.status = ClipStatus.ERROR
    failed_video.storage_uri = failed_video.view_url = None
    await repository.save(failed_video)

    # When today's clips are listed
    camera = await media_source.async_browse_media(hass, f"{ROOT}/camera/front_door")
    day = await media_source.async_browse_media(
        hass, camera.children[0].media_content_id
    )
    sound, broken, video = day.children

    # Then all are marked as failed, titled and shown with a warning icon
    assert broken.title.endswith(
        " · processing failed: not a readable video · broken.mp4"
    )
    assert sound.title.endswith(
        " · processing failed: not a readable video · sound.mp4"
    )
    assert video.title == f"{earlier:%H:%M:%S} · processing failed"
    assert broken.thumbnail == sound.thumbnail == video.thumbnail == FAILED_ICON
    assert FAILED_ICON.startswith("data:image/svg+xml;base64,")

    # And the files that are not videos are not offered to play (nor
    # resolved); the video is
    assert not broken.can_play
    assert not sound.can_play
    assert video.can_play
    for item in (broken, sound):
        with pytest.raises(Unresolvable, match="not a video"):
            await media_source.async_resolve_media(hass, item.media_content_id, None)


ESPERANTO = {
    "library_day": "{weekday}, {day}-a de {month} {year}",
    "library_day_clips": "{day}: {count} filmetoj",
    "library_camera_day": "{camera} — {day}",
    "library_older": "Pli malnovaj filmetoj",
    "library_no_detection": "nenio trovita",
    "library_activity": "{activity} (risko: {risk})",
    "label_person": "persono",
    "risk_medium": "meza",
    "weekday_7": "dimanĉo",
    "month_11": "novembro",
}


async def test_the_library_follows_home_assistants_language(
    hass: HomeAssistant, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Day names, titles and "Older clips" come from HomeSec's translations."""
    # Given HomeSec's translations with an Esperanto one (read through Home
    # Assistant's translation helper, as a translation file would be)
    load_files = translation._load_translations_files_by_language

    def with_esperanto(files: dict[str, dict[str, Path]]) -> dict[str, Any]:
        loaded = load_files(files)
        if "eo" in loaded:
            loaded["eo"][DOMAIN] = {
                "common": ESPERANTO,
                "selector": {"activity_type": {"options": {"delivery": "liverado"}}},
            }
        return loaded

    monkeypatch.setattr(
        translation, "_load_translations_files_by_language", with_esperanto
    )
    # and a camera with a page and a bit of clips on Sunday 22 November 2026
    await hass.config.async_set_time_zone("UTC")
    assert await async_setup_component(hass, "media_source", {})
    entry, _ = await setup_folder_camera(hass, config_dir)
    repository = entry.runtime_data.engine.repository
    sunday = datetime(2026, 11, 22, tzinfo=UTC)
    for n in range(PAGE_SIZE + 1):
        state = history_state(sunday + timedelta(minutes=n), n)
        if n == PAGE_SIZE - 1:  # scanned, nothing found
            state.filter_result = FilterResult(
                detected_classes=[], confidence=0, frames_sampled=4, model="yolo"
            )
        await repository.save(state)
    assert await repository.flush()

    # When the library is read in English, then in Esperanto
    english = await media_source.async_browse_media(hass, f"{ROOT}/camera/front_door")
    await hass.config.async_update(language="eo")
    camera = await media_source.async_browse_media(hass, f"{ROOT}/camera/front_door")
    day = await media_source.async_browse_media(
        hass, camera.children[0].media_content_id
    )

    # Then the day, the page and its clips (their activity too) read in the
    # language now chosen
    assert english.children[0].title == "Sun 22 Nov 2026 (101)"
    assert camera.children[0].title == "dimanĉo, 22-a de novembro 2026: 101 filmetoj"
    assert day.title == "Front door — dimanĉo, 22-a de novembro 2026"
    assert day.children[0].title == "01:40:00 · persono · liverado (risko: meza)"
    assert day.children[1].title == "01:39:00 · nenio trovita"
    assert day.children[-1].title == "Pli malnovaj filmetoj"
    assert day.children[-1].can_expand
