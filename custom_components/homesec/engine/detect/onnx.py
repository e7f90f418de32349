"""YOLOv8/YOLO11 ONNX exports on ONNX Runtime, with letterbox and numpy NMS.

onnxruntime is not a manifest requirement (no musl wheels): it is imported when
the model loads, in the detector's own executor.
"""

from __future__ import annotations

import ast
import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from ..interfaces import ObjectDetector
from ..models import Box, Clip, FilterResult
from .rules import DetectionRules, RawDetection
from .scan import scan

COCO80 = [
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic_light",
    "fire_hydrant",
    "stop_sign",
    "parking_meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports_ball",
    "kite",
    "baseball_bat",
    "baseball_glove",
    "skateboard",
    "surfboard",
    "tennis_racket",
    "bottle",
    "wine_glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot_dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted_plant",
    "bed",
    "dining_table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell_phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy_bear",
    "hair_drier",
    "toothbrush",
]
COCO80 = [name.replace("_", " ") for name in COCO80]
PAD_VALUE = 114


class OnnxSettings(BaseModel):
    """Model file, runtime threads and sampling."""

    model_config = ConfigDict(frozen=True)

    model_path: Path
    threads: int = Field(default=1, ge=1, le=16)
    sample_fps: float = Field(default=2.0, gt=0)
    iou: float = Field(default=0.45, gt=0, le=1)
    rules: DetectionRules = DetectionRules()


class OnnxModel:
    """One loaded model; ``infer`` is blocking and not re-entrant."""

    def __init__(self, path: Path, threads: int) -> None:
        """Load the model with explicit thread counts (blocking)."""
        import onnxruntime as ort  # noqa: PLC0415 - optional, installed on demand

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        model_input = self._session.get_inputs()[0]
        self._input = model_input.name
        shape = model_input.shape
        self.imgsz = int(shape[2]) if isinstance(shape[2], int) else 640
        output_shape = self._session.get_outputs()[0].shape
        meta = self._session.get_modelmeta().custom_metadata_map
        self.end2end = meta.get("end2end", "False") == "True"
        classes = (
            int(output_shape[1]) - 4
            if not self.end2end and isinstance(output_shape[1], int)
            else 80
        )
        self.names = class_names(meta.get("names"), classes)
        self.name = path.name

    def infer(
        self, rgb: NDArray[np.uint8], min_confidence: float, iou: float
    ) -> list[RawDetection]:
        """Detect objects in an RGB frame whose longer side is ``imgsz``."""
        height, width = rgb.shape[:2]
        canvas = np.full((self.imgsz, self.imgsz, 3), PAD_VALUE, dtype=np.uint8)
        top, left = (self.imgsz - height) // 2, (self.imgsz - width) // 2
        canvas[top : top + height, left : left + width] = rgb
        tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        output = self._session.run(None, {self._input: tensor})[0][0]
        if self.end2end:
            boxes, scores, labels = output[:, :4], output[:, 4], output[:, 5]
            keep = scores >= min_confidence
            boxes, scores, labels = boxes[keep], scores[keep], labels[keep].astype(int)
        else:
            predictions = output.T  # (anchors, 4 + classes)
            class_scores = predictions[:, 4:]
            labels = class_scores.argmax(axis=1)
            scores = class_scores[np.arange(len(labels)), labels]
            keep = scores >= min_confidence
            xywh, scores, labels = predictions[keep, :4], scores[keep], labels[keep]
            boxes = np.empty_like(xywh)
            boxes[:, :2] = xywh[:, :2] - xywh[:, 2:] / 2
            boxes[:, 2:] = xywh[:, :2] + xywh[:, 2:] / 2
            chosen = nms(boxes, scores, labels, iou)
            boxes, scores, labels = boxes[chosen], scores[chosen], labels[chosen]
        return [
            RawDetection(
                label=self.names.get(int(label), str(int(label))),
                confidence=float(score),
                box=_relative(box, left, top, width, height),
            )
            for box, score, label in zip(boxes, scores, labels, strict=True)
        ]


def class_names(raw: str | None, classes: int) -> dict[int, str]:
    """Class names from the model's metadata; COCO's for 80 unnamed classes."""
    names: dict[int, str] = {}
    if raw:
        try:
            parsed: Any = ast.literal_eval(raw)
        except ValueError, SyntaxError:
            parsed = None
        if isinstance(parsed, dict):
            names = {int(key): str(value) for key, value in parsed.items()}
    if classes == len(COCO80) and all(v.isdigit() for v in names.values()):
        names = dict(enumerate(COCO80))
    return names


def nms(
    boxes: NDArray[np.float32],
    scores: NDArray[np.float32],
    labels: NDArray[np.int64],
    iou: float,
) -> NDArray[np.int64]:
    """Class-aware non-maximum suppression; return the kept indices."""
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    # Offsetting boxes by class keeps classes from suppressing each other.
    shifted = boxes + labels[:, None].astype(np.float32) * 4096.0
    x1, y1, x2, y2 = shifted.T
    areas = (x2 - x1).clip(0) * (y2 - y1).clip(0)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size:
        first = int(order[0])
        keep.append(first)
        rest = order[1:]
        w = (np.minimum(x2[first], x2[rest]) - np.maximum(x1[first], x1[rest])).clip(0)
        h = (np.minimum(y2[first], y2[rest]) - np.maximum(y1[first], y1[rest])).clip(0)
        overlap = w * h / (areas[first] + areas[rest] - w * h + 1e-9)
        order = rest[overlap <= iou]
    return np.asarray(keep, dtype=np.int64)


def _relative(
    box: NDArray[np.float32], left: int, top: int, width: int, height: int
) -> Box:
    x1, y1, x2, y2 = (float(v) for v in box)
    return Box(
        x1=round(min(max((x1 - left) / width, 0.0), 1.0), 4),
        y1=round(min(max((y1 - top) / height, 0.0), 1.0), 4),
        x2=round(min(max((x2 - left) / width, 0.0), 1.0), 4),
        y2=round(min(max((y2 - top) / height, 0.0), 1.0), 4),
    )


class OnnxDetector(ObjectDetector):
    """The ``onnx`` backend: one model, a scan worker and an inference worker."""

    def __init__(self, settings: OnnxSettings) -> None:
        """Nothing loads until the first clip (or ``load``)."""
        self._settings = settings
        self._scan_pool = ThreadPoolExecutor(1, thread_name_prefix="homesec-scan")
        self._infer_pool = ThreadPoolExecutor(1, thread_name_prefix="homesec-infer")
        self._model: OnnxModel | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> OnnxModel:
        with self._lock:
            if self._model is None:
                self._model = OnnxModel(
                    self._settings.model_path, self._settings.threads
                )
            return self._model

    async def load(self) -> OnnxModel:
        """Load the model now, off the event loop (checks a configuration)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._scan_pool, self._loaded)

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Scan the clip in the detector's executor; cancelling stops the scan."""
        cancelled = threading.Event()
        loop = asyncio.get_running_loop()
        job = partial(
            self._scan, clip.local_path, cancelled, rules or self._settings.rules
        )
        try:
            return await loop.run_in_executor(self._scan_pool, job)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    def _scan(
        self, path: Path, cancelled: threading.Event, rules: DetectionRules
    ) -> FilterResult:
        model = self._loaded()
        floor = min(rules.min_confidence, 0.25)
        return scan(
            path,
            infer=partial(model.infer, min_confidence=floor, iou=self._settings.iou),
            rules=rules,
            sample_fps=self._settings.sample_fps,
            side=model.imgsz,
            model=model.name,
            infer_executor=self._infer_pool,
            stop=cancelled.is_set,
        )

    async def close(self) -> None:
        """Stop the workers and drop the model."""
        loop = asyncio.get_running_loop()
        for pool in (self._scan_pool, self._infer_pool):
            await loop.run_in_executor(None, partial(pool.shutdown, wait=True))
        self._model = None
