"""The scan with parked objects: frames showing only them never end it early.

Real clips made with ffmpeg, the red-person ONNX model on ONNX Runtime: a
person stands at the gate from the start (parked), another comes to the door
at 3 s. The red-person model boxes every red pixel of a frame at once, so the
newcomer shows as a box wider than the parked one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
import subprocess

import pytest

from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings
from custom_components.homesec.engine.detect.parked import (
    ParkedBox,
    only_parked,
    overlaps,
)
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.models import Box, Clip, FilterResult

from .clips import BACKGROUND

GATE = Box(x1=120 / 640, y1=100 / 360, x2=220 / 640, y2=260 / 360)
RED = "color=c=0xdc1414:size=100x160:rate=15:duration=5"


def _clip_with(path: Path, *, newcomer_at: float | None) -> Path:
    """5 s: a person at the gate, from ``newcomer_at`` another at the door."""
    door = f"[v1][2]overlay=x=440:y=120:enable='gte(t,{newcomer_at})'"
    graph = "[0][1]overlay=x=120:y=100:shortest=1" + (
        f"[v1];{door}" if newcomer_at is not None else ""
    )
    inputs = ["-f", "lavfi", "-i", BACKGROUND.format(size="640x360", duration=5)]
    inputs += ["-f", "lavfi", "-i", RED]
    if newcomer_at is not None:
        inputs += ["-f", "lavfi", "-i", RED]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph,
         "-c:v", "libx264", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="session")
def newcomer_clip(clip_dir: Path) -> Path:
    """The gate person throughout, a newcomer at the door from 3 s."""
    return _clip_with(clip_dir / "newcomer.mp4", newcomer_at=3.0)


@pytest.fixture(scope="session")
def gate_only_clip(clip_dir: Path) -> Path:
    """The gate person throughout, nobody else."""
    return _clip_with(clip_dir / "gate_only.mp4", newcomer_at=None)


async def _scan(model: Path, path: Path, parked: tuple[ParkedBox, ...]) -> FilterResult:
    detector = OnnxDetector(
        OnnxSettings(
            model_path=model,
            rules=DetectionRules(classes=frozenset({"person"}), parked=parked),
        )
    )
    clip = Clip(
        clip_id=path.stem,
        camera_name="gate",
        local_path=path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )
    try:
        return await detector.detect(clip)
    finally:
        await detector.close()


PARKED = (ParkedBox(group="person", box=GATE),)


async def test_a_newcomer_next_to_a_parked_person_is_found(
    red_model: Path, newcomer_clip: Path
) -> None:
    """Parked frames do not end the scan; the newcomer's frame is the best."""
    # Given a clip with a parked person and a newcomer from 3 s
    # When it is scanned without and with the parked box
    plain = await _scan(red_model, newcomer_clip, ())
    knowing = await _scan(red_model, newcomer_clip, PARKED)

    # Then without it the first frame ends the scan (the parked person alone)
    assert plain.frames_sampled == 1
    assert plain.best is not None and plain.best.frame_ts == pytest.approx(0, abs=0.07)

    # And with it the scan goes on to the newcomer, whose frame is the best:
    # keyframes first (every 2 s), 0 s and 2 s show the parked person only,
    # 4 s the newcomer (there from 3 s)
    assert knowing.frames_sampled == 3
    assert knowing.best is not None
    assert knowing.best.frame_ts == pytest.approx(4.0, abs=0.07)
    assert not only_parked([("person", knowing.best.box)], PARKED)


async def test_only_parked_objects_scan_the_whole_clip(
    red_model: Path, gate_only_clip: Path
) -> None:
    """Nothing but the parked person: every frame scanned, the detection kept."""
    # Given a clip with the parked person only
    # When it is scanned with the parked box
    result = await _scan(red_model, gate_only_clip, PARKED)

    # Then every sampled frame was looked at and the person is still reported
    assert result.frames_sampled == 10  # 5 s at 2 fps
    assert result.detected_classes == ["person"]
    assert result.best is not None
    assert only_parked([("person", result.best.box)], PARKED)


def test_only_parked_needs_every_object_on_a_parked_box_of_its_group() -> None:
    """Same group and place: parked; another group, place or an extra: not."""
    # Given a parked person at the gate
    door = Box(x1=0.7, y1=0.3, x2=0.85, y2=0.75)

    # When frames are checked, then only the parked person alone is parked
    assert only_parked([("person", GATE)], PARKED)
    assert not only_parked([("vehicle", GATE)], PARKED)
    assert not only_parked([("person", GATE), ("person", door)], PARKED)
    assert not only_parked([("person", door)], PARKED)
    assert not only_parked([], PARKED)
    assert not only_parked([("person", GATE)], ())
    assert overlaps([GATE], [GATE, door]).tolist() == [[pytest.approx(1.0), 0.0]]
