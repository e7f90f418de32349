"""The keyframes-first in-between pass decodes without the deblocking filter (less
CPU time), and a snapshot from it is decoded again with the filter."""

from __future__ import annotations

from functools import partial
from pathlib import Path
import subprocess

import av
import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.homesec.engine.detect import scan as scan_module
from custom_components.homesec.engine.detect.keyframes import (
    KeyframePass,
    sample_between,
    sample_keyframes,
)
from custom_components.homesec.engine.detect.onnx import OnnxModel
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.detect.scan import scan


@pytest.fixture(scope="module")
def noisy_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of a noisy grey scene (where deblocking shows), keyframes at 0 and
    2 s, with a red box from 0.8 to 1.8 s: seen between keyframes only."""
    path = tmp_path_factory.mktemp("fast") / "noisy.mp4"
    args = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", "color=c=0x808080:size=640x360:rate=15:duration=4",
        "-f", "lavfi", "-i", "color=c=0xdc1414:size=100x160:rate=15:duration=4",
        "-filter_complex",
        "[0]noise=alls=24:allf=t[bg];"
        "[bg][1]overlay=x=120:y=100:enable='between(t,0.8,1.8)':shortest=1",
        "-c:v", "libx264", "-b:v", "400k", "-g", "30", "-bf", "0",
        "-sc_threshold", "0", "-pix_fmt", "yuv420p", str(path),
    ]  # fmt: skip
    subprocess.run(args, check=True)
    return path


def _straight(path: Path) -> dict[int, NDArray[np.uint8]]:
    """Every frame's picture, decoded straight through with every filter."""
    with av.open(str(path)) as container:
        return {
            frame.pts: frame.to_ndarray(format="rgb24")
            for frame in container.decode(video=0)
        }


def test_the_frames_in_between_skip_the_deblocking_filter(noisy_clip: Path) -> None:
    """The in-between pass's pictures are not the fully filtered ones."""
    # Given the clip's keyframes scanned first, and its frames decoded straight
    found = KeyframePass()
    list(sample_keyframes(noisy_clip, 2.0, 160, found))
    straight = _straight(noisy_clip)

    # When the sampled frames in between are decoded
    between = list(sample_between(noisy_clip, 2.0, 160, found))

    # Then they are marked inexact, and their pictures differ from the filtered
    # ones (the deblocking filter did not run)
    assert [round(s.ts, 1) for s in between] == [0.5, 1.0, 1.5, 2.5, 3.0, 3.5]
    assert not any(s.exact for s in between)
    differ = [
        not np.array_equal(s.source.to_ndarray(format="rgb24"), straight[s.source.pts])
        for s in between
    ]
    assert all(differ)


def test_a_snapshot_from_in_between_is_decoded_with_every_filter(
    noisy_clip: Path, red_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot's picture is the frame as the camera encoded it."""
    # Given the red-person model, and the snapshot maker noting its frames
    model = OnnxModel(red_model, threads=1)
    pictured: list[av.VideoFrame] = []
    snapshot_rgb = scan_module.snapshot_rgb

    def noting(frame: av.VideoFrame) -> NDArray[np.uint8]:
        pictured.append(frame)
        return snapshot_rgb(frame)

    monkeypatch.setattr(scan_module, "snapshot_rgb", noting)

    # When the clip is scanned keyframes first
    result = scan(
        noisy_clip,
        infer=partial(model.infer, min_confidence=0.25, iou=0.45),
        rules=DetectionRules(min_hits=1),
        sample_fps=2.0,
        side=model.imgsz,
        model="red",
    )

    # Then the person was found at 1 s, between the keyframes, and the snapshot
    # shows that frame exactly as a full decode does
    assert result.detected_classes == ["person"]
    assert [round(d.frame_ts, 1) for d in result.detections] == [1.0]
    assert result.snapshot_jpeg
    [frame] = pictured
    assert round(frame.time, 1) == 1.0
    expected = _straight(noisy_clip)[frame.pts]
    assert np.array_equal(frame.to_ndarray(format="rgb24"), expected)
