"""Object detection: real decoding, a real ONNX graph on ONNX Runtime, rules,
early exit, bad files, and the remote backend against a CodeProject.AI double."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import io
from pathlib import Path
import subprocess

from aiohttp import ClientSession
from PIL import Image
import pytest

from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings
from custom_components.homesec.engine.detect.remote import (
    RemoteDetector,
    RemoteDetectorError,
    RemoteSettings,
)
from custom_components.homesec.engine.detect.rules import DetectionRules, expand
from custom_components.homesec.engine.detect.yolo import class_names
from custom_components.homesec.engine.errors import VideoDecodeError
from custom_components.homesec.engine.models import Clip

from .clips import UNMET_RULES, make_clip, make_red_box_clip
from .doubles.detection_server import DetectionServer
from .pipeline_parts import run_blocking


def _clip(path: Path) -> Clip:
    return Clip(
        clip_id=path.stem,
        camera_name="porch",
        local_path=path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )


async def _detect(model: Path, clip: Path, **rules: object) -> object:
    detector = OnnxDetector(
        OnnxSettings(model_path=model, rules=DetectionRules.model_validate(rules))
    )
    try:
        return await detector.detect(_clip(clip))
    finally:
        await detector.close()


async def test_onnx_finds_the_person_and_stops_early(
    red_model: Path, red_clip: Path
) -> None:
    """Decoding, letterbox, inference, NMS and early exit work end to end."""
    # Given the red-person model and a clip whose red box appears at 2 s
    # When it is scanned needing two matching frames
    result = await _detect(red_model, red_clip, min_hits=2)

    # Then a person is found in the box, and scanning stopped at the second hit:
    # the keyframes (every 2 s) come first: 0 empty, 2.0 and 4.0 hit
    assert result.detected_classes == ["person"]
    assert result.frames_sampled == 3
    assert result.best is not None
    assert result.best.frame_ts == pytest.approx(2.0, abs=0.07)
    box = result.best.box
    assert (box.x1, box.x2) == (
        pytest.approx(120 / 640, abs=0.02),
        pytest.approx(220 / 640, abs=0.02),
    )
    assert (box.y1, box.y2) == (
        pytest.approx(100 / 360, abs=0.03),
        pytest.approx(260 / 360, abs=0.03),
    )
    assert result.confidence == pytest.approx(0.9, abs=0.01)
    # Then the snapshot is a JPEG of the full frame with the box drawn in red
    assert result.snapshot_jpeg is not None
    snapshot = Image.open(io.BytesIO(result.snapshot_jpeg))
    assert snapshot.size == (640, 360)
    assert "snapshot_jpeg" not in result.model_dump()


@pytest.mark.parametrize(("rules", "why"), UNMET_RULES)
async def test_onnx_rules_filter(
    red_model: Path, red_clip: Path, rules: dict[str, object], why: str
) -> None:
    """Class, confidence, box height and hit rules each reject the detection."""
    # Given rules the red box does not satisfy
    # When the clip is scanned
    result = await _detect(red_model, red_clip, **rules)

    # Then nothing is reported, and every sampled frame was looked at
    assert result.detected_classes == [], why
    assert result.frames_sampled == 12
    assert result.snapshot_jpeg is None


async def test_rotation_and_h265(red_model: Path, tmp_path: Path) -> None:
    """H.265 decodes, and rotation metadata gives boxes in upright coordinates."""
    # Given an H.265 clip and the same stream tagged as rotated by 90 degrees
    hevc = make_red_box_clip(tmp_path / "hevc.mp4", codec="libx265")
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(hevc), "-c", "copy",
         "-metadata:s:v:0", "rotate=90", str(rotated)],
        check=True,
    )  # fmt: skip

    # When both are scanned
    plain = await _detect(red_model, hevc)
    turned = await _detect(red_model, rotated)

    # Then both find the person; the rotated one where ffmpeg shows it upright
    assert plain.detected_classes == turned.detected_classes == ["person"]
    assert turned.best is not None
    assert turned.best.box.x1 == pytest.approx(100 / 360, abs=0.03)
    assert turned.best.box.y1 == pytest.approx(420 / 640, abs=0.03)
    assert turned.snapshot_jpeg is not None
    assert Image.open(io.BytesIO(turned.snapshot_jpeg)).size == (360, 640)


async def test_no_person_in_a_grey_clip(red_model: Path, motion_clip: Path) -> None:
    """A clip without red is scanned to the end and reports nothing."""
    # Given a clip with a moving white box and no red
    # When it is scanned, then nothing is found in its 8 sampled frames
    result = await _detect(red_model, motion_clip)
    assert result.detected_classes == []
    assert result.frames_sampled == 8


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01garbage" * 500, "not a readable video"),
        ("half", "could not be decoded|not a readable video|no decodable"),
    ],
)
async def test_bad_files_are_clear_errors(
    red_model: Path, tmp_path: Path, motion_clip: Path, content: object, message: str
) -> None:
    """Empty, non-video and truncated files raise VideoDecodeError."""
    # Given a bad file
    path = tmp_path / "bad.mp4"
    data = motion_clip.read_bytes()
    path.write_bytes(data[: len(data) // 2] if content == "half" else content)  # type: ignore[arg-type]

    # When it is scanned, then the error says what is wrong
    with pytest.raises(VideoDecodeError, match=message):
        await _detect(red_model, path)


async def test_cancelling_stops_the_scan(red_model: Path, tmp_path: Path) -> None:
    """A cancelled clip stops decoding; the detector then serves the next one."""
    # Given a long clip and a detector
    long_clip = make_clip(tmp_path / "long.mp4", motion=True, duration=60)
    detector = OnnxDetector(OnnxSettings(model_path=red_model))
    await detector.load()

    # When its scan is cancelled right away
    task = asyncio.ensure_future(detector.detect(_clip(long_clip)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # Then the next clip is served (the worker was freed) and close works
    result = await asyncio.wait_for(detector.detect(_clip(long_clip)), 60)
    assert result.frames_sampled == 120
    await detector.close()


def test_groups_expand() -> None:
    """vehicle and animal stand for their COCO classes."""
    # Given the group names, when expanded, then members are listed
    names = expand(["vehicle", "animal", "person"])
    assert {"car", "truck", "bicycle", "dog", "cat", "bird", "person"} <= names
    assert "vehicle" not in names


async def test_remote_detector_finds_the_person(
    detection_server: DetectionServer, red_clip: Path
) -> None:
    """Sampled frames go to the server as JPEGs until min_hits frames matched."""
    # Given the remote backend pointed at the server
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url, rules=DetectionRules(min_hits=2)),
            session,
            run_blocking,
        )
        await detector.check()

        # When the red-box clip is scanned
        result = await detector.detect(_clip(red_clip))

    # Then the person was found and only the three keyframes (0, 2 and 4 s; plus
    # the check) were sent
    assert result.detected_classes == ["person"]
    assert result.frames_sampled == 3
    assert len(detection_server.requests) == 4
    assert detection_server.requests[1]["size"] == (360, 640, 3)
    assert result.best is not None
    assert result.best.box.x1 == pytest.approx(120 / 640, abs=0.02)
    assert result.snapshot_jpeg is not None


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error", "reported a failure: model crashed"),
        ("http500", "HTTP 500"),
        ("slow", "no answer from the server within 0.5 s"),
        ("malformed", "malformed prediction"),
        ("unreachable", "cannot reach the server"),
    ],
)
async def test_remote_failures_are_errors(
    detection_server: DetectionServer, red_clip: Path, mode: str, message: str
) -> None:
    """Server failures, timeouts and bad answers become RemoteDetectorError."""
    # Given a server that misbehaves in one way
    detection_server.mode = mode
    url = "http://127.0.0.1:9" if mode == "unreachable" else detection_server.url
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=url, timeout=0.5), session, run_blocking
        )

        # When a clip is scanned, then the error says what went wrong
        with pytest.raises(RemoteDetectorError, match=message):
            await detector.detect(_clip(red_clip))


def test_class_names_from_metadata() -> None:
    """Names come from the model's metadata; an unnamed 80-class model gets COCO's."""
    # Given metadata of a trained model, of an unnamed model, and none
    trained = class_names("{0: 'person', 1: 'parcel'}", 2)
    unnamed = class_names(str({i: str(i) for i in range(80)}), 80)
    missing = class_names(None, 3)

    # Then each gives the expected names
    assert trained == {0: "person", 1: "parcel"}
    assert unnamed[0] == "person"
    assert unnamed[2] == "car"
    assert missing == {}
