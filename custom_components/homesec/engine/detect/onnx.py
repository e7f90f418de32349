"""YOLOv8/YOLO11 ONNX exports on ONNX Runtime, with letterbox and numpy NMS.

onnxruntime is not a manifest requirement (no musl wheels): it is imported when
the model loads, in the detector's own executor.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .rules import RawDetection
from .yolo import Letterbox, class_names, decode, decode_end2end, named_classes
from .yolo_detector import YoloDetector, YoloSettings


class OnnxSettings(YoloSettings):
    """Settings of the ``onnx`` backend."""


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
        # Idle worker threads sleep instead of spinning after each frame
        # (spinning takes the cores the decoders and Home Assistant need).
        for pool in ("intra_op", "inter_op"):
            options.add_session_config_entry(f"session.{pool}.allow_spinning", "0")
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
        self.classes = classes
        names = class_names(meta.get("names"), classes)
        counted = not self.end2end and isinstance(output_shape[1], int)
        self.names = named_classes(names, classes) if counted else names
        self.name = path.name

    def infer(
        self, rgb: NDArray[np.uint8], min_confidence: float, iou: float
    ) -> list[RawDetection]:
        """Detect objects in an RGB frame whose longer side is ``imgsz``."""
        frame = Letterbox(rgb, self.imgsz)
        output = self._session.run(None, {self._input: frame.tensor[None]})[0][0]
        if self.end2end:
            return decode_end2end(output, frame, self.names, min_confidence)
        return decode(output, frame, self.names, min_confidence, iou)


class OnnxDetector(YoloDetector[OnnxSettings, OnnxModel]):
    """The ``onnx`` backend."""

    def _load_model(self) -> OnnxModel:
        return OnnxModel(self._settings.model_path, self._settings.threads)
