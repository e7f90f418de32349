"""Zones and masks in the engine: geometry, detectors, stored results."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path

from aiohttp import ClientSession
import pytest

from custom_components.homesec.engine.detect.frames import sample_gray_frames
from custom_components.homesec.engine.detect.motion import MotionSettings, scan_motion
from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings
from custom_components.homesec.engine.detect.remote import (
    RemoteDetector,
    RemoteSettings,
)
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.detect.zones import (
    PolygonError,
    parse_masks,
    parse_zones,
    raster,
    zones_text,
)
from custom_components.homesec.engine.models import Clip, ClipState, FilterResult
from custom_components.homesec.engine.pending_journal import PendingJournal
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.sources.motion_gate import MotionGate
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)

from .doubles.detection_server import DetectionServer
from .pipeline_parts import run_blocking

# The red box of ``red_clip`` stands at x 0.27, y 0.72 (its bottom centre).
LEFT = parse_zones("left: 0,0.5 0.5,0.5 0.5,1 0,1")
RIGHT = parse_zones("right: 0.5,0.5 1,0.5 1,1 0.5,1")


def _clip(path: Path) -> Clip:
    return Clip(
        clip_id=path.stem,
        camera_name="porch",
        local_path=path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )


def test_polygon_text_is_checked_in_user_terms() -> None:
    """Each kind of bad text names its problem and line; good text round-trips."""
    # Given bad zone and mask texts
    bad_zones = {
        "0.1,0.1 0.2,0.1 0.2,0.2": "zone_needs_name",
        "a: 0.1,0.1 0.2,0.1 0.2,0.2\na: 0.3,0.3 0.4,0.3 0.4,0.4": "zone_name_twice",
        "porch: 0.1,0.1 0.2,0.1": "polygon_too_few_points",
        "porch: 0.1,0.1 0.2,0.1 0.2,x": "polygon_not_points",
        "porch: 0.1,0.1 0.2,0.1 0.2,-0.1": "polygon_out_of_frame",
        "porch: " + " ".join(["0.5,0.5"] * 33): "polygon_too_many_points",
    }

    # When they are read, then each fails with its reason
    for text, key in bad_zones.items():
        with pytest.raises(PolygonError) as err:
            parse_zones(text)
        assert err.value.key == key, text
    with pytest.raises(PolygonError) as many:
        parse_masks("\n".join(["0,0 1,0 1,1"] * 17))
    assert many.value.key == "too_many_polygons"
    with pytest.raises(PolygonError) as second:
        parse_masks("0,0 1,0 1,1\n\n0,0 1,0")
    assert (second.value.key, second.value.line) == ("polygon_too_few_points", 3)

    # And good text is read, named the one way, and written back the same
    zones = parse_zones("Drive Way: 0.1,0.5 0.4,0.5 0.4,0.9 0.1,0.9")
    assert zones_text(zones) == "drive_way: 0.1,0.5 0.4,0.5 0.4,0.9 0.1,0.9"
    assert zones[0].polygon.contains(0.2, 0.7)
    assert not zones[0].polygon.contains(0.5, 0.7)


def test_the_motion_raster_agrees_with_the_point_test() -> None:
    """Each pixel centre is in the raster exactly when the polygon contains it."""
    # Given a concave mask (an L shape)
    [mask] = parse_masks("0.1,0.1 0.9,0.1 0.9,0.3 0.3,0.3 0.3,0.9 0.1,0.9")

    # When it is rasterised at 64x36
    hidden = raster([mask], 64, 36)

    # Then it matches the point test everywhere
    for row in range(36):
        for col in range(64):
            inside = mask.contains((col + 0.5) / 64, (row + 0.5) / 36)
            assert bool(hidden[row, col]) == inside, (col, row)
    assert 0 < hidden.sum() < 64 * 36


async def test_onnx_applies_the_camera_rules_it_is_given(
    red_model: Path, red_clip: Path
) -> None:
    """The detector's own rules apply without camera rules; given ones win."""
    # Given the ONNX detector with hub rules
    detector = OnnxDetector(OnnxSettings(model_path=red_model))
    clip = _clip(red_clip)
    try:
        # When the clip is scanned with the hub rules, a zone's, a mask's
        plain = await detector.detect(clip)
        zoned = await detector.detect(clip, DetectionRules(zones=LEFT + RIGHT))
        masked = await detector.detect(clip, DetectionRules(masks=(LEFT[0].polygon,)))
        elsewhere = await detector.detect(
            clip, DetectionRules(masks=(RIGHT[0].polygon,))
        )
    finally:
        await detector.close()

    # Then the person is found, in zone left only; a mask where it stands
    # hides it, one elsewhere does not
    assert plain.detected_classes == ["person"]
    assert plain.zones == []
    assert zoned.zones == ["left"]
    assert zoned.best is not None
    assert zoned.best.zones == ["left"]
    assert masked.detected_classes == []
    assert elsewhere.detected_classes == ["person"]


async def test_remote_detector_applies_the_camera_rules(
    detection_server: DetectionServer, red_clip: Path
) -> None:
    """The remote backend masks and zones by the rules of the clip's camera."""
    # Given the remote backend
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url), session, run_blocking
        )
        clip = _clip(red_clip)

        # When the clip is scanned with a zone, then with a mask where it stands
        zoned = await detector.detect(clip, DetectionRules(zones=LEFT))
        masked = await detector.detect(clip, DetectionRules(masks=(LEFT[0].polygon,)))

    # Then the zone is named, and the mask hides the person
    assert zoned.zones == ["left"]
    assert masked.detected_classes == []


def test_motion_inside_a_mask_does_not_count(motion_clip: Path) -> None:
    """A mask over the band where the box moves leaves no motion."""
    # Given the clip of a box moving across the band y 0.39..0.61
    band = parse_masks("0,0.3 1,0.3 1,0.7 0,0.7")
    half = parse_masks("0,0.3 0.5,0.3 0.5,0.7 0,0.7")

    # When it is scanned without a mask, with the band masked, with half of it
    moving = scan_motion(motion_clip, MotionSettings())
    hidden = scan_motion(motion_clip, MotionSettings(), DetectionRules(masks=band))
    partly = scan_motion(
        motion_clip, MotionSettings(min_hits=3), DetectionRules(masks=half)
    )

    # Then only the unmasked part of the motion counts
    assert moving.detected_classes == ["motion"]
    assert hidden.detected_classes == []
    assert partly.detected_classes == ["motion"]
    assert partly.best is not None
    assert partly.best.box.x1 >= 0.5


async def test_results_with_and_without_zones_survive_the_journal_and_store(
    tmp_path: Path, red_model: Path, red_clip: Path
) -> None:
    """Zones are stored; results stored before zones existed still load."""
    # Given a clip state whose detection stood in zone left
    detector = OnnxDetector(OnnxSettings(model_path=red_model))
    try:
        result = await detector.detect(_clip(red_clip), DetectionRules(zones=LEFT))
    finally:
        await detector.close()
    state = ClipState.for_clip(_clip(red_clip))
    state.filter_result = result

    # When it goes through SQLite and back
    repository = ClipRepository(
        SQLAlchemyStateStore(sqlite_url(tmp_path / "h.db"), run_blocking)
    )
    assert await repository.start()
    await repository.save(state)
    assert await repository.flush()
    stored = await repository.get(state.clip_id)
    await repository.close()

    # Then its zones are kept
    assert stored is not None
    assert stored.filter_result is not None
    assert stored.filter_result.zones == ["left"]

    # When a journal written before zones existed is read
    document = json.loads(state.model_dump_json())
    for det in [
        document["filter_result"]["best"],
        *document["filter_result"]["detections"],
    ]:
        del det["zones"]
    path = tmp_path / "pending.json"
    path.write_text(json.dumps({"states": [document], "events": []}))
    loaded = await PendingJournal(path, run_blocking).load()

    # Then it loads, with no zones
    assert loaded is not None
    old = loaded.states[0].filter_result
    assert isinstance(old, FilterResult)
    assert old.detected_classes == ["person"]
    assert old.zones == []


def test_the_rtsp_motion_gate_ignores_motion_in_a_mask(motion_clip: Path) -> None:
    """The live gate that starts recordings does not see motion under a mask."""
    # Given the grey frames of a box moving across the band y 0.39..0.61
    frames = [gray for _, gray in sample_gray_frames(motion_clip, 5.0, 320)]
    band = parse_masks("0,0.3 1,0.3 1,0.7 0,0.7")

    # When a gate without masks, and one masking the band, watch them
    def seen(gate: MotionGate) -> int:
        return sum(gate.feed(gray) for gray in frames)

    plain = seen(MotionGate(25, 1.0, 5))
    masked = seen(MotionGate(25, 1.0, 5, band))

    # Then only the unmasked gate sees motion
    assert plain > 0
    assert masked == 0
