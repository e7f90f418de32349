"""Ultralytics backend: ``.pt`` or any format Ultralytics loads, offline-safe.

ultralytics (and PyTorch) are not manifest requirements: PyPI's torch is a
multi-GB CUDA build with no musl wheels. They are imported in the detector's
executor, with Ultralytics kept offline and its settings under ``config_dir``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
import os
from pathlib import Path
import shutil
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from ..interfaces import ObjectDetector
from ..models import Box, Clip, FilterResult
from .background import lower_priority
from .clip_video import scan_clip_in
from .rules import DetectionRules, RawDetection
from .scan import scan
from .yolo import class_names


class UltralyticsSettings(BaseModel):
    """Model, size, threads and where Ultralytics may keep its settings."""

    model_config = ConfigDict(frozen=True)

    model_path: Path
    config_dir: Path
    imgsz: int = Field(default=320, ge=32)
    threads: int = Field(default=1, ge=1, le=16)
    sample_fps: float = Field(default=2.0, gt=0)
    rules: DetectionRules = DetectionRules()


def _offline(config_dir: Path) -> None:
    """Keep Ultralytics from probing DNS or writing under the home folder."""
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)


def load_model(settings: UltralyticsSettings) -> Any:
    """Import Ultralytics offline and load the model (blocking)."""
    _offline(settings.config_dir)
    import torch  # noqa: PLC0415 - optional, installed on demand
    from ultralytics import YOLO  # noqa: PLC0415

    model = YOLO(str(settings.model_path))
    # Its first prediction picks a device and resets torch's thread count: make
    # it now, on a blank frame, then set the threads HomeSec allows.
    blank = np.zeros((settings.imgsz, settings.imgsz, 3), dtype=np.uint8)
    model.predict(blank, imgsz=settings.imgsz, verbose=False)
    torch.set_num_threads(settings.threads)
    return model


def export_onnx(settings: UltralyticsSettings, dest: Path) -> Path:
    """Export the model to the ``.onnx`` the onnx backend runs (blocking).

    Ultralytics needs the ``onnx`` and ``onnxslim`` packages for this.
    """
    model = load_model(settings)
    exported = Path(model.export(format="onnx", imgsz=settings.imgsz))
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(exported, dest)
    return dest


class UltralyticsDetector(ObjectDetector):
    """Same sampling, rules and result as the onnx backend, on Ultralytics."""

    def __init__(self, settings: UltralyticsSettings) -> None:
        """Nothing loads until the first clip (or ``load``)."""
        self._settings = settings
        self._pool = ThreadPoolExecutor(
            1, thread_name_prefix="homesec-ultralytics", initializer=lower_priority
        )
        self._model: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = load_model(self._settings)
            return self._model

    async def load(self) -> None:
        """Load the model now, off the event loop."""
        await asyncio.get_running_loop().run_in_executor(self._pool, self._loaded)

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Scan the clip in the detector's executor; cancelling stops the scan."""
        rules = rules or self._settings.rules
        return await scan_clip_in(self._pool, clip, partial(self._scan, rules))

    def _scan(
        self, rules: DetectionRules, path: Path, stop: Callable[[], bool]
    ) -> FilterResult:
        model = self._loaded()
        floor = min(rules.min_confidence, 0.25)
        return scan(
            path,
            infer=partial(self._infer, model, floor=floor),
            rules=rules,
            sample_fps=self._settings.sample_fps,
            side=self._settings.imgsz,
            model=self._settings.model_path.name,
            stop=stop,
        )

    def _infer(
        self, model: Any, rgb: NDArray[np.uint8], *, floor: float
    ) -> list[RawDetection]:
        height, width = rgb.shape[:2]
        result = model.predict(
            rgb[:, :, ::-1], imgsz=self._settings.imgsz, conf=floor, verbose=False
        )[0]
        names = class_names(result.names, len(result.names))
        found = []
        for xyxy, score, label in zip(
            result.boxes.xyxy.tolist(),
            result.boxes.conf.tolist(),
            result.boxes.cls.tolist(),
            strict=True,
        ):
            x1, y1, x2, y2 = xyxy
            found.append(
                RawDetection(
                    label=names.get(int(label), str(int(label))),
                    confidence=float(score),
                    box=Box(
                        x1=x1 / width, y1=y1 / height, x2=x2 / width, y2=y2 / height
                    ),
                )
            )
        return found

    async def close(self) -> None:
        """Stop the worker and drop the model."""
        await asyncio.get_running_loop().run_in_executor(
            None, partial(self._pool.shutdown, wait=True)
        )
        self._model = None
