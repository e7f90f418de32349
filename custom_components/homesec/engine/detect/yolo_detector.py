"""The detector shared by local YOLO backends: a model, a scan and an inference worker.

A backend supplies its settings and how to load its model; scanning (decode and
inference overlapping, early exit, cancellation) is the same for all.
"""

from __future__ import annotations

from abc import abstractmethod
import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
import threading
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from ..interfaces import FrameModel, ObjectDetector
from ..models import Clip, FilterResult
from .background import lower_priority
from .clip_video import scan_clip_in
from .rules import DetectionRules, RawDetection
from .scan import scan


class YoloSettings(BaseModel):
    """Model file, runtime threads and sampling."""

    model_config = ConfigDict(frozen=True)

    model_path: Path
    threads: int = Field(default=1, ge=1, le=16)
    sample_fps: float = Field(default=2.0, gt=0)
    iou: float = Field(default=0.45, gt=0, le=1)
    rules: DetectionRules = DetectionRules()


class YoloModel(Protocol):
    """A loaded model; ``infer`` is blocking and not re-entrant."""

    @property
    def imgsz(self) -> int:
        """The side of the square input, in pixels."""

    @property
    def name(self) -> str:
        """What the results name as their model."""

    def infer(
        self, rgb: NDArray[np.uint8], min_confidence: float, iou: float
    ) -> list[RawDetection]:
        """Detect objects in an RGB frame whose longer side is ``imgsz``."""


class YoloDetector[S: YoloSettings, M: YoloModel](ObjectDetector):
    """One model, a scan worker and an inference worker."""

    def __init__(self, settings: S) -> None:
        """Nothing loads until the first clip (or ``load``)."""
        self._settings = settings
        self._scan_pool = ThreadPoolExecutor(
            1, thread_name_prefix="homesec-scan", initializer=lower_priority
        )
        self._infer_pool = ThreadPoolExecutor(
            1, thread_name_prefix="homesec-infer", initializer=lower_priority
        )
        self._model: M | None = None
        self._lock = threading.Lock()

    @abstractmethod
    def _load_model(self) -> M:
        """Load the model of ``self._settings`` (blocking)."""

    def _loaded(self) -> M:
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    async def load(self) -> M:
        """Load the model now, off the event loop (checks a configuration)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._scan_pool, self._loaded)

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Scan the clip in the detector's executor; cancelling stops the scan.

        ``rules`` (a camera's own) replace the detector's.
        """
        rules = rules or self._settings.rules
        return await scan_clip_in(self._scan_pool, clip, partial(self._scan, rules))

    async def frame_model(self) -> FrameModel:
        """The loaded model, for single frames; inference on the scan's worker."""
        model = await self.load()
        return FrameModel(
            side=model.imgsz,
            name=model.name,
            rules=self._settings.rules,
            detect=partial(self._detect_frame, model),
        )

    async def _detect_frame(
        self, model: M, rgb: NDArray[np.uint8], rules: DetectionRules
    ) -> list[RawDetection]:
        floor = min(rules.min_confidence, 0.25)
        infer = partial(model.infer, min_confidence=floor, iou=self._settings.iou)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._infer_pool, infer, rgb)

    def _scan(
        self, rules: DetectionRules, path: Path, stop: Callable[[], bool]
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
            stop=stop,
        )

    async def close(self) -> None:
        """Stop the workers and drop the model."""
        loop = asyncio.get_running_loop()
        for pool in (self._scan_pool, self._infer_pool):
            await loop.run_in_executor(None, partial(pool.shutdown, wait=True))
        self._model = None
