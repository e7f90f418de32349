"""HomeSec's actions, with valid and invalid input."""

from __future__ import annotations

from datetime import timedelta
import os
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import probatio
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN, EVENT_DETECTION

from .doubles.openai_server import OpenAIServer
from .helpers import (
    FolderHub,
    setup_hub,
    setup_onnx_hub,
    setup_openai_hub,
    wait_for,
)

NO_RESPONSE = {"reprocess_clip", "record_clip"}


async def call(
    hass: HomeAssistant, service: str, data: dict[str, Any], *, response: bool = True
) -> Any:
    """Call a HomeSec action as an automation would."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=response
    )


async def refused(hass: HomeAssistant, service: str, data: dict[str, Any]) -> str:
    """The translation key of the error an action call raises."""
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, service, data, response=service not in NO_RESPONSE)
    return str(err.value.translation_key)


async def test_analyze_clip_returns_the_result(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """A file or a media ID is analyzed; bad input is refused clearly."""
    # Given a person detector, a clip in the config dir and one in media
    await setup_onnx_hub(hass, red_model)
    clip = config_dir / "visitor.mp4"
    clip.write_bytes(red_clip.read_bytes())
    media = config_dir / "media"
    (media / "cams").mkdir(parents=True)
    (media / "cams" / "visitor.mp4").write_bytes(red_clip.read_bytes())
    hass.config.media_dirs = {"local": str(media)}
    (config_dir / "broken.mp4").write_bytes(b"not a video")
    outside = config_dir.parent / "outside.mp4"
    outside.write_bytes(red_clip.read_bytes())

    # When the file and the media ID are analyzed
    by_file = await call(hass, "analyze_clip", {"file": str(clip)})
    by_media = await call(
        hass,
        "analyze_clip",
        {"media_content_id": "media-source://media_source/local/cams/visitor.mp4"},
    )

    # Then both found the person (no analyzer: no summary)
    for result in (by_file, by_media):
        assert result["detected_classes"] == ["person"]
        assert result["analysis"] is None

    # When the input is wrong, then each error says why
    assert await refused(hass, "analyze_clip", {}) == "no_clip_given"
    assert await refused(hass, "analyze_clip", {"file": str(outside)}) == (
        "path_not_allowed"
    )
    assert await refused(hass, "analyze_clip", {"file": "relative.mp4"}) == (
        "path_not_allowed"
    )
    missing = {"file": str(config_dir / "gone.mp4")}
    assert await refused(hass, "analyze_clip", missing) == "file_not_found"
    broken = {"file": str(config_dir / "broken.mp4")}
    assert await refused(hass, "analyze_clip", broken) == "clip_unreadable"
    other = {"media_content_id": "media-source://camera/camera.x"}
    assert await refused(hass, "analyze_clip", other) == "unsupported_media"
    escape = {"media_content_id": "media-source://media_source/local/../outside.mp4"}
    assert await refused(hass, "analyze_clip", escape) == "path_not_allowed"
    unknown = {"file": str(clip), "camera": "garage"}
    assert await refused(hass, "analyze_clip", unknown) == "unknown_camera"
    with pytest.raises(probatio.Invalid):
        await call(hass, "analyze_clip", {"file": str(clip), "media_content_id": "x"})


async def test_reprocess_search_and_cleanup(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """Clips are found, processed again and cleaned up through actions."""
    # Given a camera with two processed clips
    entry, drop = folder_hub.entry, folder_hub.folder
    detections = async_capture_events(hass, EVENT_DETECTION)
    for name in ("a.mp4", "b.mp4"):
        (drop / name).write_bytes(motion_clip.read_bytes())
        count = len(detections) + 1
        await wait_for(lambda n=count: len(detections) == n, what=name)
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    device = next(
        d
        for d in dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
        if d.model != "Hub"
    )

    # When clips are searched in several ways
    everything = await call(hass, "search_clips", {})
    by_device = await call(
        hass, "search_clips", {"camera": device.id, "detected_class": "motion"}
    )
    people = await call(hass, "search_clips", {"detected_class": "person"})
    risky = await call(hass, "search_clips", {"min_risk": "low"})
    later = dt_util.utcnow() + timedelta(hours=1)
    future = await call(hass, "search_clips", {"start": later.isoformat()})
    one = await call(hass, "search_clips", {"limit": 1})

    # Then each answer lists the matching clips, newest first
    ids = [clip["clip_id"] for clip in everything["clips"]]
    assert len(ids) == 2
    assert ids == [d.data["clip_id"] for d in reversed(detections)]
    assert [c["clip_id"] for c in by_device["clips"]] == ids
    assert [c["original_name"] for c in everything["clips"]] == ["b.mp4", "a.mp4"]
    assert everything["clips"][0]["clip_url"] == f"/api/homesec/clips/{ids[0]}"
    # (motion clips have a snapshot too: the frame with the most motion)
    assert everything["clips"][0]["snapshot_url"] == f"/api/homesec/snapshots/{ids[0]}"
    assert people["clips"] == risky["clips"] == future["clips"] == []
    assert [c["clip_id"] for c in one["clips"]] == ids[:1]
    assert await refused(
        hass,
        "search_clips",
        {"start": later.isoformat(), "end": dt_util.utcnow().isoformat()},
    ) == ("start_after_end")
    with pytest.raises(ServiceValidationError) as unknown:
        await call(hass, "search_clips", {"detected_class": "dragon"})
    assert unknown.value.translation_key == "unknown_class"

    # When a clip of the library is analyzed by its media ID
    library = await call(
        hass,
        "analyze_clip",
        {"media_content_id": f"media-source://homesec/clip/{ids[0]}"},
    )

    # Then it was scanned like a file
    assert library["detected_classes"] == ["motion"]

    # When the newest clip is reprocessed, and an unknown one
    await call(hass, "reprocess_clip", {"clip_id": ids[0]}, response=False)
    await wait_for(lambda: len(detections) == 3, what="the reprocessed clip")
    assert await refused(hass, "reprocess_clip", {"clip_id": "nope_1"}) == (
        "unknown_clip"
    )

    # When the spool limit is tiny, a dry run lists clips and a cleanup removes them
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    hass.config_entries.async_update_entry(entry, options={"retention_max_gb": 1e-9})
    await hass.async_block_till_done()
    dry = await call(hass, "cleanup", {"dry_run": True})
    spooled = sorted((config_dir / "homesec" / "spool").rglob("*.mp4"))
    done = await call(hass, "cleanup", {})

    # Then the dry run kept the files and the cleanup removed the same clips
    assert sorted(dry["clips"]) == sorted(ids)
    assert len(spooled) == 2
    assert done["clips"] == dry["clips"]
    assert not list((config_dir / "homesec" / "spool").rglob("*.mp4"))

    # And a clip gone from the spool cannot be reprocessed, but its stored copy
    # (local storage) can still be analyzed; an unknown library clip cannot
    assert await refused(hass, "reprocess_clip", {"clip_id": ids[0]}) == (
        "clip_not_in_spool"
    )
    stored = {"media_content_id": f"media-source://homesec/clip/{ids[0]}"}
    assert (await call(hass, "analyze_clip", stored))["detected_classes"] == ["motion"]
    unknown = {"media_content_id": "media-source://homesec/clip/nope_1"}
    assert await refused(hass, "analyze_clip", unknown) == "unknown_clip"


async def test_search_lists_a_late_upload_by_when_it_was_recorded(
    hass: HomeAssistant, folder_hub: FolderHub, motion_clip: Path
) -> None:
    """A camera's backlog, uploaded after newer clips, sorts by recording time."""
    # Given a clip recorded now, then a clip recorded an hour ago that the
    # camera uploads only afterwards (its file time is its recording time)
    detections = async_capture_events(hass, EVENT_DETECTION)
    hour_ago = (dt_util.utcnow() - timedelta(hours=1)).timestamp()
    for name, stamp in (("now.mp4", None), ("backlog.mp4", hour_ago)):
        clip = folder_hub.folder / name
        clip.write_bytes(motion_clip.read_bytes())
        if stamp is not None:
            os.utime(clip, (stamp, stamp))
        count = len(detections) + 1
        await wait_for(lambda n=count: len(detections) == n, what=name)

    # When the clips are searched
    found = await call(hass, "search_clips", {})

    # Then the clip recorded last comes first, whatever the order they came in
    names = [clip["original_name"] for clip in found["clips"]]
    assert names == ["now.mp4", "backlog.mp4"]
    starts = [clip["start"] for clip in found["clips"]]
    assert starts == sorted(starts, reverse=True)


async def test_record_clip_needs_a_recording_camera(
    hass: HomeAssistant, folder_hub: FolderHub
) -> None:
    """A folder camera cannot record; an unknown camera is named."""
    # Given a folder camera (folder_hub)

    # When recording is asked of it, and of a camera that does not exist
    folder = await refused(hass, "record_clip", {"camera": "front_door"})
    unknown = await refused(hass, "record_clip", {"camera": "garage"})

    # Then both are refused with their reason, as are malformed fields
    assert folder == "cannot_record"
    assert unknown == "unknown_camera"
    with pytest.raises(probatio.Invalid):
        await call(
            hass, "record_clip", {"camera": "front_door", "duration": 0}, response=False
        )
    with pytest.raises(probatio.Invalid):
        await call(hass, "cleanup", {"dry_run": "maybe"})


async def test_actions_without_a_hub(hass: HomeAssistant, config_dir: Path) -> None:
    """Before the hub is loaded, actions say so."""
    # Given a hub that is then unloaded
    entry = await setup_hub(hass)
    await hass.config_entries.async_unload(entry.entry_id)

    # When an action is called, then it explains HomeSec is not loaded
    assert await refused(hass, "search_clips", {}) == "not_loaded"


async def test_analyze_clip_with_a_model_and_its_budget(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    openai_server: OpenAIServer,
) -> None:
    """With an analyzer the result has a summary; past the budget it says why."""
    # Given a hub analysing with a model server, one call a day
    await setup_openai_hub(hass, red_model, openai_server.url, daily_calls=1)
    clip = config_dir / "visitor.mp4"
    clip.write_bytes(red_clip.read_bytes())

    # When the clip is analyzed twice, and a media folder that does not exist
    first = await call(hass, "analyze_clip", {"file": str(clip)})
    second = await call(hass, "analyze_clip", {"file": str(clip)})
    nowhere = {"media_content_id": "media-source://media_source/nowhere/x.mp4"}

    # Then the first has the model's summary, the second the budget's reason
    assert first["analysis"]["summary"].startswith("A courier")
    assert first["analysis"]["risk_level"] == "medium"
    assert second["analysis"] is None
    assert "budget" in second["analysis_error"]
    assert await refused(hass, "analyze_clip", nowhere) == "unsupported_media"


async def test_user_mistakes_are_bad_requests_over_rest(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    folder_hub: FolderHub,
    config_dir: Path,
) -> None:
    """Actions and buttons asked the impossible answer 400 with a clear message."""
    # Given a folder camera without clips yet, a file that is no video, and a
    # client of Home Assistant's REST API
    (config_dir / "broken.mp4").write_bytes(b"not a video" * 100)
    assert await async_setup_component(hass, "api", {})
    client = await hass_client()
    asked = {
        "record a folder camera": ("homesec/record_clip", {"camera": "front_door"}),
        "record an unknown camera": ("homesec/record_clip", {"camera": "garage"}),
        "reprocess an unknown clip": ("homesec/reprocess_clip", {"clip_id": "x_1"}),
        "analyze a file that is no video": (
            "homesec/analyze_clip?return_response",
            {"file": str(config_dir / "broken.mp4")},
        ),
        "press Analyze last clip without a clip": (
            "button/press",
            {"entity_id": "button.front_door_analyze_last_clip"},
        ),
    }

    # When each is asked over REST
    answers = {}
    for what, (service, data) in asked.items():
        response = await client.post(f"/api/services/{service}", json=data)
        answers[what] = (response.status, (await response.json())["message"])

    # Then each is a bad request that says what is wrong, in the user's words
    # (Home Assistant drops the final period)
    assert answers == {
        "record a folder camera": (
            400,
            "Front door cannot record on demand: only RTSP and Home Assistant "
            "cameras can, and only while enabled",
        ),
        "record an unknown camera": (400, "garage is not a HomeSec camera"),
        "reprocess an unknown clip": (400, "HomeSec has no clip x_1"),
        "analyze a file that is no video": (
            400,
            "HomeSec cannot read broken.mp4: not a video, or a damaged one",
        ),
        "press Analyze last clip without a clip": (
            400,
            "Front door has no clip in the spool to analyze yet",
        ),
    }
