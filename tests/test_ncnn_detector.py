"""The ncnn backend on real clips with a real ncnn graph (written by the test):
detection, rules, early exit, cancellation, custom classes and bad models."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import io
from pathlib import Path
import threading
from typing import Any

from PIL import Image
import pytest

from custom_components.homesec.engine.detect.ncnn import (
    NcnnDetector,
    NcnnModel,
    NcnnSettings,
)
from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.detect.yolo import class_names
from custom_components.homesec.engine.errors import ModelFileError
from custom_components.homesec.engine.models import FilterResult

from .clips import RED_BOX, UNMET_RULES, clip_of, make_clip
from .red_person_ncnn import SIZE, build, graph


class CountedDetector:
    """An ncnn detector whose model counts (and may hold) its inferences."""

    def __init__(self, settings: NcnnSettings) -> None:
        self.detector = NcnnDetector(settings)
        self.calls = 0
        self.on_call: Callable[[int], None] = lambda _: None

    async def start(self) -> None:
        model = await self.detector.load()
        infer = model.infer

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            self.on_call(self.calls)
            return infer(*args, **kwargs)

        model.infer = counted  # type: ignore[method-assign]

    async def detect(self, clip: Path) -> FilterResult:
        try:
            return await self.detector.detect(clip_of(clip))
        finally:
            await self.detector.close()


async def _counted(model: Path, **rules: object) -> CountedDetector:
    counted = CountedDetector(
        NcnnSettings(model_path=model, rules=DetectionRules.model_validate(rules))
    )
    await counted.start()
    return counted


async def test_ncnn_finds_the_person_and_stops_early(
    red_ncnn: Path, red_clip: Path
) -> None:
    """Letterbox, ncnn inference, decode, NMS and early exit work end to end."""
    # Given the red-person export folder and a clip whose red box appears at 2 s
    detector = await _counted(red_ncnn, min_hits=2)

    # When it is scanned needing two matching frames
    result = await detector.detect(red_clip)

    # Then one person (the duplicate anchor suppressed) is found in the box
    assert result.detected_classes == ["person"]
    assert [d.label for d in result.detections] == ["person"]
    assert result.model == "red_ncnn_model"
    assert result.best is not None
    assert result.best.frame_ts == pytest.approx(2.0, abs=0.07)
    box = result.best.box
    assert (box.x1, box.y1, box.x2, box.y2) == pytest.approx(RED_BOX, abs=0.03)
    assert result.confidence == pytest.approx(0.9, abs=0.01)
    # Then scanning stopped at the second hit, on keyframes only (every 2 s:
    # 0 s empty, 2 s and 4 s hit); at most one more frame was in inference
    # meanwhile, of 12 sampled
    assert result.frames_sampled == 3
    assert 3 <= detector.calls <= 4
    assert result.snapshot_jpeg is not None
    assert Image.open(io.BytesIO(result.snapshot_jpeg)).size == (640, 360)


@pytest.mark.parametrize(("rules", "why"), UNMET_RULES)
async def test_ncnn_rules_filter(
    red_ncnn: Path, red_clip: Path, rules: dict[str, object], why: str
) -> None:
    """Class, confidence, box height and hit rules each reject the detection."""
    # Given rules the red box does not satisfy
    detector = await _counted(red_ncnn, **rules)

    # When the clip is scanned
    result = await detector.detect(red_clip)

    # Then nothing is reported, and the model looked at every sampled frame
    assert result.detected_classes == [], why
    assert result.frames_sampled == detector.calls == 12
    assert result.snapshot_jpeg is None


async def test_cancelling_stops_inference(red_ncnn: Path, tmp_path: Path) -> None:
    """A cancelled clip gets no more inferences; the detector closes cleanly."""
    # Given a 60 s clip (120 sampled frames) whose third inference is held
    long_clip = make_clip(tmp_path / "long.mp4", motion=True, duration=60)
    detector = await _counted(red_ncnn)
    loop = asyncio.get_running_loop()
    held, release = asyncio.Event(), threading.Event()

    def hold(call: int) -> None:
        if call == 3:
            loop.call_soon_threadsafe(held.set)
            release.wait(30)

    detector.on_call = hold
    task = asyncio.ensure_future(detector.detector.detect(clip_of(long_clip)))
    await held.wait()

    # When the clip's task is cancelled there, and the inference then released
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    await detector.detector.close()

    # Then at most the frame already queued behind it was run, not the other 117
    assert 3 <= detector.calls <= 4


async def test_custom_class_names_reach_the_result(
    tmp_path: Path, red_clip: Path
) -> None:
    """A model trained on other classes reports them by the export's names."""
    # Given an export whose metadata names two classes; red boxes are "package"
    model = build(tmp_path / "parcel_ncnn_model", names=["person", "package"], label=1)

    # When the clip is scanned for packages
    detector = await _counted(model, classes=["package"])
    result = await detector.detect(red_clip)

    # Then the package is detected, by its name
    assert result.detected_classes == ["package"]
    assert [d.label for d in result.detections] == ["package"]
    assert result.best is not None
    assert result.best.label == "package"


async def test_a_param_file_without_metadata(tmp_path: Path, red_clip: Path) -> None:
    """A .param/.bin pair: blob names from the graph, size from the settings."""
    # Given a bare pair (no metadata.yaml) whose blobs are not named in0/out0
    param = build(tmp_path / "bare", metadata=False, blobs=("images", "output0"))

    # When it is loaded with the model's size, and the clip scanned
    detector = NcnnDetector(NcnnSettings(model_path=param, imgsz=SIZE))
    try:
        model = await detector.load()
        result = await detector.detect(clip_of(red_clip))
    finally:
        await detector.close()

    # Then its 80 unnamed classes are COCO's, and the person is found
    assert model.imgsz == SIZE
    assert model.names[0] == "person"
    assert len(model.names) == 80
    assert result.detected_classes == ["person"]
    assert result.model == "red.param"


def _corrupt(folder: Path, fault: str) -> Path:
    """An export folder with one fault; return the path to give the backend."""
    model = build(folder)
    param, weights = model / "model.ncnn.param", model / "model.ncnn.bin"
    match fault:
        case "missing":
            return folder / "elsewhere_ncnn_model"
        case "no param":
            param.unlink()
        case "no bin":
            weights.unlink()
        case "garbage param":
            param.write_bytes(b"\x00\x01garbage" * 50)
        case "truncated bin":
            weights.write_bytes(weights.read_bytes()[:10])
        case "garbage metadata":
            (model / "metadata.yaml").write_text("names: [unclosed\n")
        case "huge imgsz":
            (model / "metadata.yaml").write_text("imgsz: [100000, 100000]\n")
        case "not a yolo head":
            g = graph()
            g.layers = g.layers[:6]  # ends at "any": one number per frame
            (model / "model.ncnn.param").write_text(g.param().replace("any", "out0"))
        case "other file":
            return model / "metadata.yaml"
    return model


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("missing", "neither an ncnn .param file nor a folder"),
        ("no param", "holds 0 .param files"),
        ("no bin", "model.ncnn.bin is missing beside model.ncnn.param"),
        ("garbage param", "model.ncnn.param is not an ncnn model description"),
        ("truncated bin", "model.ncnn.bin lacks weights"),
        ("garbage metadata", "metadata.yaml is not readable"),
        ("huge imgsz", "imgsz \\[100000, 100000\\], not an image size"),
        ("not a yolo head", "not a YOLO detection head"),
        ("other file", "neither an ncnn .param file nor a folder"),
    ],
)
def test_unusable_models_are_clear_errors(
    tmp_path: Path, fault: str, message: str
) -> None:
    """Missing, corrupt or foreign models raise ModelFileError, not a crash."""
    # Given a model with one fault
    path = _corrupt(tmp_path / "red_ncnn_model", fault)

    # When it is loaded, then the error says what is wrong
    with pytest.raises(ModelFileError, match=message):
        NcnnModel(path, threads=1)


def test_class_names_from_yaml_metadata() -> None:
    """metadata.yaml gives names as a mapping or a list, both understood."""
    # Given names as a YAML mapping, as a list, and something else
    # Then each gives the expected names
    assert class_names({0: "person", 1: "package"}, 2) == {0: "person", 1: "package"}
    assert class_names(["person", "package"], 2) == {0: "person", 1: "package"}
    assert class_names(7, 2) == {}
    assert class_names({"a": "b"}, 1) == {}


async def test_ncnn_and_onnx_agree(
    red_ncnn: Path, red_model: Path, red_clip: Path
) -> None:
    """The same head on ncnn and on ONNX Runtime gives the same detections."""
    # Given the red-person model on both backends
    ncnn = NcnnDetector(NcnnSettings(model_path=red_ncnn))
    onnx = OnnxDetector(OnnxSettings(model_path=red_model))

    # When both scan the red-box clip
    try:
        found = [await d.detect(clip_of(red_clip)) for d in (ncnn, onnx)]
    finally:
        for detector in (ncnn, onnx):
            await detector.close()

    # Then they agree on what, where and when
    by_ncnn, by_onnx = found
    assert by_ncnn.detected_classes == by_onnx.detected_classes == ["person"]
    assert by_ncnn.frames_sampled == by_onnx.frames_sampled
    assert by_ncnn.best is not None
    assert by_onnx.best is not None
    assert by_ncnn.best.frame_ts == by_onnx.best.frame_ts
    assert by_ncnn.best.confidence == pytest.approx(by_onnx.best.confidence)
    assert by_ncnn.best.box.model_dump() == pytest.approx(
        by_onnx.best.box.model_dump(), abs=0.01
    )
