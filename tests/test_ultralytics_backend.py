"""The Ultralytics backend, run only where ultralytics is installed (it is not in
the default test install: PyPI's torch is a multi-GB CUDA build)."""

from __future__ import annotations

from datetime import UTC, datetime
import importlib.util
from pathlib import Path

import pytest

from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.detect.ultralytics import (
    UltralyticsDetector,
    UltralyticsSettings,
    export_onnx,
)
from custom_components.homesec.engine.models import Clip

from .pipeline_parts import run_blocking

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("ultralytics") is None,
    reason="ultralytics is not installed (optional backend)",
)


async def test_ultralytics_scans_and_exports(tmp_path: Path, motion_clip: Path) -> None:
    """A YOLO model from its YAML (random weights) scans a clip and exports ONNX."""
    # Given the Ultralytics backend on yolo11n.yaml, settings under tmp_path
    settings = UltralyticsSettings(
        model_path=Path("yolo11n.yaml"),
        config_dir=tmp_path / "ultralytics",
        rules=DetectionRules(min_confidence=1.0),
    )
    detector = UltralyticsDetector(settings)
    clip = Clip(
        clip_id="c",
        camera_name="porch",
        local_path=motion_clip,
        start_ts=datetime.now(UTC),
        source_type="test",
    )

    # When a clip is scanned and the model exported
    result = await detector.detect(clip)
    await detector.close()
    onnx_path = await run_blocking(export_onnx, settings, tmp_path / "model.onnx")

    # Then every sampled frame was seen, and the export exists
    assert result.frames_sampled == 8
    assert onnx_path.exists()
