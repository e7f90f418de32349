"""HomeSec's Ultralytics backend on real Ultralytics and CPU PyTorch.

HomeSec's code runs here unchanged (Python 3.14); Ultralytics and PyTorch run in
the Python 3.11 child that ``ultralytics_child`` starts (see ``remote.py``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import io
from pathlib import Path
import sys

from PIL import Image
import pytest

from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.detect.ultralytics import (
    UltralyticsDetector,
    UltralyticsSettings,
    export_onnx,
)
from custom_components.homesec.engine.models import Clip, FilterResult

from ..clips import make_clip
from .remote import ULTRALYTICS_PYTHON, Child

pytestmark = pytest.mark.skipif(
    not ULTRALYTICS_PYTHON,
    reason="needs the Python 3.11 Ultralytics environment: run script/test_ultralytics",
)


def _clip(path: Path) -> Clip:
    return Clip(
        clip_id=path.stem,
        camera_name="porch",
        local_path=path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )


async def _detect(settings: UltralyticsSettings, clip: Path) -> FilterResult:
    detector = UltralyticsDetector(settings)
    try:
        return await detector.detect(_clip(clip))
    finally:
        await detector.close()


async def test_ultralytics_finds_the_red_person_and_stops_early(
    ultralytics_child: Child, tmp_path: Path, red_model: Path, red_clip: Path
) -> None:
    """Ultralytics' ONNX backend, called by HomeSec, finds the person; scanning stops.

    The red-person model runs through Ultralytics' AutoBackend (ONNX Runtime):
    HomeSec's frame handling (BGR order for Ultralytics), its reading of
    ``Results`` (names, boxes, scores), box scaling, rules and early exit are
    all real.
    """
    # Given the red-person model on the Ultralytics backend, two frames needed
    # at a confidence below the model's 0.9
    settings = UltralyticsSettings(
        model_path=red_model,
        config_dir=tmp_path / "ultralytics",
        imgsz=160,
        rules=DetectionRules(min_confidence=0.8, min_hits=2),
    )

    # When the clip whose red box appears at 2 s is scanned
    result = await _detect(settings, red_clip)

    # Then a person is found in the box, and scanning stopped at the second hit
    assert result.detected_classes == ["person"]
    assert result.frames_sampled == 3  # keyframes first: 0 empty; 2.0 and 4.0 hit
    assert result.model == "red.onnx"
    assert result.confidence == pytest.approx(0.9, abs=0.01)
    assert result.best is not None
    assert result.best.label == "person"
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
    # Then the snapshot is the full frame
    assert result.snapshot_jpeg is not None
    assert Image.open(io.BytesIO(result.snapshot_jpeg)).size == (640, 360)


async def test_ultralytics_finds_nothing_without_red(
    ultralytics_child: Child, tmp_path: Path, red_model: Path, grey_clip: Path
) -> None:
    """A clip without red is scanned to its end through Ultralytics; nothing found."""
    # Given the red-person model on the Ultralytics backend, default rules
    settings = UltralyticsSettings(
        model_path=red_model, config_dir=tmp_path / "ultralytics", imgsz=160
    )

    # When a 4 s clip with a moving white box and no red is scanned
    result = await _detect(settings, grey_clip)

    # Then all 8 sampled frames were looked at and nothing was reported
    assert result.detected_classes == []
    assert result.frames_sampled == 8
    assert result.best is None
    assert result.snapshot_jpeg is None


async def test_ultralytics_stays_offline_with_its_settings_in_config_dir(
    ultralytics_child: Child, tmp_path: Path, red_model: Path
) -> None:
    """Ultralytics is imported offline, its settings under ``config_dir``, not home."""
    # Given the Ultralytics backend with a config_dir of its own
    config_dir = tmp_path / "ultralytics"
    settings = UltralyticsSettings(
        model_path=red_model, config_dir=config_dir, imgsz=160
    )

    # When it loads its model (the first import of torch and Ultralytics)
    detector = UltralyticsDetector(settings)
    await detector.load()
    await detector.close()

    # Then Ultralytics was offline and wrote its settings in config_dir only
    assert ultralytics_child.started_with is not None
    assert ultralytics_child.started_with["YOLO_OFFLINE"] == "1"
    assert sys.modules["ultralytics"].utils.ONLINE is False
    assert (config_dir / "Ultralytics" / "settings.json").is_file()
    home = Path(ultralytics_child.started_with["HOME"])
    assert not (home / ".config" / "Ultralytics").exists()


async def test_yaml_model_scans_with_pytorch_and_exports_for_the_onnx_backend(
    ultralytics_child: Child, tmp_path: Path, grey_clip: Path
) -> None:
    """A YOLO11n built from Ultralytics' YAML scans on PyTorch and exports to ONNX.

    Its weights are random, so it cannot be asked to find anything: a
    confidence of 1.0 keeps every frame in the scan. The export is then loaded
    by HomeSec's own onnx backend.
    """
    # Given the Ultralytics backend on yolo11n.yaml (PyTorch, random weights)
    settings = UltralyticsSettings(
        model_path=Path("yolo11n.yaml"),
        config_dir=tmp_path / "ultralytics",
        imgsz=160,
        rules=DetectionRules(min_confidence=1.0),
    )

    # When a clip is scanned, then the model is exported to ONNX
    result = await _detect(settings, grey_clip)
    dest = tmp_path / "models" / "yolo11n.onnx"
    exported = await asyncio.to_thread(export_onnx, settings, dest)

    # Then every sampled frame went through the PyTorch model
    assert result.frames_sampled == 8
    assert result.detected_classes == []
    assert result.model == "yolo11n.yaml"
    # Then the export is where it was asked for, with nothing left behind
    assert exported == dest
    assert exported.is_file()
    assert not (tmp_path / "yolo11n.onnx").exists()

    # When HomeSec's onnx backend scans the clip with the exported model
    onnx = OnnxDetector(
        OnnxSettings(model_path=exported, rules=DetectionRules(min_confidence=1.0))
    )
    try:
        loaded = await onnx.load()
        scanned = await onnx.detect(_clip(grey_clip))
    finally:
        await onnx.close()

    # Then it reads the export's size and COCO names, and scans every frame
    assert loaded.imgsz == 160
    assert loaded.names[0] == "person"
    assert scanned.frames_sampled == 8


async def test_cancelling_stops_the_scan_and_frees_the_worker(
    ultralytics_child: Child, tmp_path: Path, red_model: Path, red_clip: Path
) -> None:
    """A cancelled scan stops at the next frame; the detector then serves the next."""
    # Given a 60 s clip (120 sampled frames) and a loaded Ultralytics backend
    long_clip = make_clip(tmp_path / "long.mp4", motion=True, duration=60)
    detector = UltralyticsDetector(
        UltralyticsSettings(
            model_path=red_model, config_dir=tmp_path / "ultralytics", imgsz=160
        )
    )
    await detector.load()

    # When its scan is cancelled once Ultralytics has been asked for a prediction
    task = asyncio.ensure_future(detector.detect(_clip(long_clip)))
    while "predict" not in ultralytics_child.attributes_read and not task.done():
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # When the next clip is scanned by the same detector
    result = await detector.detect(_clip(red_clip))
    await detector.close()

    # Then it is served (the worker was freed) and finds the person, and the
    # cancelled scan stopped after a frame or two: a whole scan of the long clip
    # would have made 120 predictions (the red clip needs 6)
    assert result.detected_classes == ["person"]
    assert ultralytics_child.attributes_read.count("predict") < 20


async def test_threads_setting_holds_for_pytorch_inference(
    ultralytics_child: Child, tmp_path: Path, grey_clip: Path
) -> None:
    """The backend's ``threads`` is PyTorch's thread count while it scans."""
    # Given a PyTorch model (yolo11n.yaml) on 9 threads, a count Ultralytics'
    # own default (at most 8) never matches
    settings = UltralyticsSettings(
        model_path=Path("yolo11n.yaml"),
        config_dir=tmp_path / "ultralytics",
        imgsz=160,
        threads=9,
        rules=DetectionRules(min_confidence=1.0),
    )

    # When a clip is scanned
    result = await _detect(settings, grey_clip)

    # Then PyTorch ran with the configured thread count
    assert result.frames_sampled == 8
    assert sys.modules["torch"].get_num_threads() == 9
