"""YOLOv8/YOLO11 NCNN exports on ncnn, the local backend that runs on musl.

ncnn publishes wheels for Home Assistant OS (musllinux, x86_64 and aarch64);
like the other local backends it is installed on demand and imported when the
model loads, in the detector's own executor. Letterbox, decode and NMS are
shared with the ONNX backend (``yolo.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import Field
import yaml

from ..errors import ModelFileError
from .rules import RawDetection
from .yolo import (
    PAD_VALUE,
    Letterbox,
    class_names,
    decode,
    head_classes,
    named_classes,
)
from .yolo_detector import YoloDetector, YoloSettings

EXPORT_PARAM = "model.ncnn.param"
METADATA = "metadata.yaml"


class NcnnSettings(YoloSettings):
    """Settings of the ``ncnn`` backend.

    ``model_path`` is an Ultralytics NCNN export folder (``*_ncnn_model``) or a
    ``.param`` file with its ``.bin`` beside it.
    """

    imgsz: int = Field(default=320, ge=32)
    """The input size when no ``metadata.yaml`` gives it."""


def model_files(path: Path) -> tuple[Path, Path, Path | None]:
    """The ``.param``, ``.bin`` and ``metadata.yaml`` of the model at ``path``."""
    if path.is_dir():
        found = sorted(path.glob("*.param"))
        if (path / EXPORT_PARAM).is_file():
            found = [path / EXPORT_PARAM]
        if len(found) != 1:
            raise ModelFileError(
                f"{path.name} holds {len(found)} .param files, not one ncnn model"
            )
        param = found[0]
    elif path.suffix == ".param" and path.is_file():
        param = path
    else:
        raise ModelFileError(
            f"{path.name} is neither an ncnn .param file nor a folder holding one"
        )
    weights = param.with_suffix(".bin")
    if not weights.is_file():
        raise ModelFileError(f"{weights.name} is missing beside {param.name}")
    metadata = param.parent / METADATA
    return param, weights, metadata if metadata.is_file() else None


def read_metadata(path: Path | None) -> dict[str, Any]:
    """The export's metadata (names, imgsz); empty without a file."""
    if path is None:
        return {}
    try:
        metadata = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ModelFileError(f"{path.name} is not readable: {err}") from err
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path.name} holds no settings")
    return metadata


def _side(imgsz: object, default: int) -> int:
    """The square input side from metadata's ``imgsz`` (``[h, w]`` or one int)."""
    if imgsz is None:
        return default
    sides = imgsz if isinstance(imgsz, list) else [imgsz]
    valid = [side for side in sides if type(side) is int and 32 <= side <= 4096]
    if not valid or len(valid) != len(sides):
        raise ModelFileError(f"{METADATA} gives imgsz {imgsz!r}, not an image size")
    return max(valid)


class NcnnModel:
    """One loaded model; ``infer`` is blocking and not re-entrant."""

    def __init__(self, path: Path, threads: int, imgsz: int = 320) -> None:
        """Load and try the model (blocking); raise ModelFileError if unusable."""
        import ncnn  # noqa: PLC0415 - optional, installed on demand

        param, weights, metadata_file = model_files(path)
        metadata = read_metadata(metadata_file)
        self.imgsz = _side(metadata.get("imgsz"), imgsz)
        self.name = path.name
        self._ncnn = ncnn
        self._net = ncnn.Net()
        self._net.opt.use_vulkan_compute = False
        self._net.opt.num_threads = threads
        # Idle worker threads sleep instead of spinning for 20 ms after each
        # frame (spinning takes the cores the decoder and Home Assistant need).
        self._net.opt.openmp_blocktime = 0
        # A failed load leaves a net that crashes the process when run.
        if self._net.load_param(str(param)) != 0:
            raise ModelFileError(f"{param.name} is not an ncnn model description")
        if self._net.load_model(str(weights)) != 0:
            raise ModelFileError(f"{weights.name} lacks weights {param.name} needs")
        inputs, outputs = self._net.input_names(), self._net.output_names()
        if not inputs or not outputs:
            raise ModelFileError(f"{param.name} has no input or no output")
        self._input, self._output = inputs[0], outputs[-1]
        blank = np.full((self.imgsz, self.imgsz, 3), PAD_VALUE, dtype=np.uint8)
        classes = head_classes(self._run(Letterbox(blank, self.imgsz)))
        self.names = named_classes(class_names(metadata.get("names"), classes), classes)

    def _run(self, frame: Letterbox) -> NDArray[np.float32]:
        with self._net.create_extractor() as extractor:
            extractor.input(self._input, self._ncnn.Mat(frame.tensor).clone())
            status, blob = extractor.extract(self._output)
            if status != 0:
                raise ModelFileError(f"{self.name} failed to run (ncnn: {status})")
            output: NDArray[np.float32] = np.array(blob)
        while output.ndim > 2 and output.shape[0] == 1:
            output = output[0]
        return output

    def infer(
        self, rgb: NDArray[np.uint8], min_confidence: float, iou: float
    ) -> list[RawDetection]:
        """Detect objects in an RGB frame whose longer side is ``imgsz``."""
        frame = Letterbox(rgb, self.imgsz)
        return decode(self._run(frame), frame, self.names, min_confidence, iou)


class NcnnDetector(YoloDetector[NcnnSettings, NcnnModel]):
    """The ``ncnn`` backend."""

    def _load_model(self) -> NcnnModel:
        settings = self._settings
        return NcnnModel(settings.model_path, settings.threads, settings.imgsz)
