"""What every YOLOv8/YOLO11 backend shares: class names, letterbox, head decode, NMS.

A backend turns a letterboxed frame into the model's raw output; the rest is here.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelFileError
from ..models import Box
from .coco import COCO80
from .rules import RawDetection

PAD_VALUE = 114


class Letterbox:
    """A frame centred on a square canvas: the model's input, and the way back."""

    __slots__ = ("height", "left", "tensor", "top", "width")

    def __init__(self, rgb: NDArray[np.uint8], size: int) -> None:
        """Pad an RGB frame whose longer side is ``size`` to ``size`` x ``size``."""
        self.height, self.width = rgb.shape[:2]
        canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
        top, left = (size - self.height) // 2, (size - self.width) // 2
        canvas[top : top + self.height, left : left + self.width] = rgb
        self.top, self.left = top, left
        self.tensor: NDArray[np.float32] = canvas.transpose(2, 0, 1).astype(
            np.float32, order="C"
        )
        """(3, size, size), scaled to 0..1, contiguous."""
        self.tensor /= 255.0

    def relative(self, box: NDArray[np.float32]) -> Box:
        """A canvas box (x1, y1, x2, y2 in pixels) relative to the frame."""
        x1, y1, x2, y2 = (float(v) for v in box)

        def clamp(value: float) -> float:
            return round(min(max(value, 0.0), 1.0), 4)

        return Box(
            x1=clamp((x1 - self.left) / self.width),
            y1=clamp((y1 - self.top) / self.height),
            x2=clamp((x2 - self.left) / self.width),
            y2=clamp((y2 - self.top) / self.height),
        )


def decode(
    output: NDArray[np.float32],
    frame: Letterbox,
    names: Mapping[int, str],
    min_confidence: float,
    iou: float,
) -> list[RawDetection]:
    """Detections of a YOLOv8/YOLO11 head: ``4 + classes`` rows by anchors.

    Rows 0-3 are the box (centre x, centre y, width, height in canvas pixels),
    the others each class's score.
    """
    head_classes(output)
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
    return _detections(boxes[chosen], scores[chosen], labels[chosen], frame, names)


def head_classes(output: NDArray[np.float32]) -> int:
    """How many classes a YOLOv8/YOLO11 head scores; raise if it is not one."""
    if output.ndim != 2 or output.shape[0] < 5:
        raise ModelFileError(
            f"the model's output has shape {output.shape}, "
            "not a YOLO detection head (4 + classes rows)"
        )
    return int(output.shape[0]) - 4


def decode_end2end(
    output: NDArray[np.float32],
    frame: Letterbox,
    names: Mapping[int, str],
    min_confidence: float,
) -> list[RawDetection]:
    """Detections of an end-to-end head (NMS inside the model).

    Each row is x1, y1, x2, y2 (canvas pixels), score and class.
    """
    boxes, scores, labels = output[:, :4], output[:, 4], output[:, 5]
    keep = scores >= min_confidence
    return _detections(
        boxes[keep], scores[keep], labels[keep].astype(np.int64), frame, names
    )


def _detections(
    boxes: NDArray[np.float32],
    scores: NDArray[np.float32],
    labels: NDArray[np.int64],
    frame: Letterbox,
    names: Mapping[int, str],
) -> list[RawDetection]:
    return [
        RawDetection(
            label=names.get(int(label), str(int(label))),
            confidence=float(score),
            box=frame.relative(box),
        )
        for box, score, label in zip(boxes, scores, labels, strict=True)
    ]


def named_classes(names: dict[int, str], classes: int) -> dict[int, str]:
    """``names`` if they name each class the head scores (or are missing).

    Metadata from another model would label detections by number and offer
    classes the model never reports: raise ModelFileError instead.
    """
    if names and set(names) != set(range(classes)):
        raise ModelFileError(
            f"its metadata names {len(names)} classes but the model scores "
            f"{classes} (export it again with Ultralytics)"
        )
    return names


def class_names(raw: object, classes: int) -> dict[int, str]:
    """Class names from a model's metadata; COCO's for 80 unnamed classes.

    ``raw`` is a mapping or list of names, or its text (``"{0: 'person'}"``) as
    ONNX metadata holds it; anything else gives no names.
    """
    parsed: Any = raw
    if isinstance(raw, str):
        try:
            parsed = ast.literal_eval(raw)
        except ValueError, SyntaxError:
            parsed = None
    if isinstance(parsed, list | tuple):
        parsed = dict(enumerate(parsed))
    names: dict[int, str] = {}
    if isinstance(parsed, Mapping):
        try:
            names = {int(key): str(value) for key, value in parsed.items()}
        except TypeError, ValueError:
            names = {}
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
