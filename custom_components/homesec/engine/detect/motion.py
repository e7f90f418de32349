"""Motion detector: frame differencing on sampled frames, class ``motion``."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import VideoDecodeError
from ..interfaces import BlockingRunner, ObjectDetector
from ..models import Box, Clip, Detection, FilterResult
from .clip_video import scan_clip
from .frames import GrayFrame, frames_at, sample_gray_frames, snapshot_rgb
from .rules import DetectionRules
from .snapshot import annotate

MOTION = "motion"
SNAPSHOT_SIDE = 320
"""Decode size of the snapshot frame (it is redrawn from the full frame)."""


class MotionSettings(BaseModel):
    """How sensitive the motion detector is."""

    model_config = ConfigDict(frozen=True)

    sample_fps: float = Field(default=2.0, gt=0)
    width: int = Field(default=320, ge=32)
    pixel_threshold: int = Field(default=25, ge=1, le=255)
    min_changed_pct: float = Field(default=0.5, gt=0, le=100)
    min_hits: int = Field(default=1, ge=1)


class MotionDetector(ObjectDetector):
    """No model, works everywhere: reports ``motion`` when enough pixels change."""

    def __init__(self, settings: MotionSettings, run_blocking: BlockingRunner) -> None:
        """Keep the settings; scans run through ``run_blocking``."""
        self._settings = settings
        self._run = run_blocking

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Scan the clip off the event loop.

        Of ``rules``, the masks and zones apply: changes in a mask do not count.
        """
        scan = partial(scan_motion, settings=self._settings, rules=rules)
        return await self._run(scan_clip, clip, scan)


def scan_motion(
    path: Path, settings: MotionSettings, rules: DetectionRules | None = None
) -> FilterResult:
    """Difference consecutive sampled frames; stop after ``min_hits`` matches."""
    rules = rules or DetectionRules()
    previous: np.ndarray | None = None
    hits = 0
    frames = 0
    best: Detection | None = None
    best_pct = 0.0
    for ts, gray in sample_gray_frames(path, settings.sample_fps, settings.width):
        frames += 1
        current = _smooth(gray)
        if previous is not None and previous.shape == current.shape:
            changed = np.abs(current - previous) > settings.pixel_threshold
            if rules.masks:
                height, width = changed.shape
                changed &= ~rules.mask_raster(width, height)
            pct = float(changed.mean() * 100.0)
            if pct >= settings.min_changed_pct:
                hits += 1
                if pct > best_pct:
                    best_pct = pct
                    box = _bounding_box(changed)
                    best = Detection(
                        label=MOTION,
                        confidence=_confidence(pct, settings),
                        box=box,
                        frame_ts=ts,
                        zones=rules.zones_of(box),
                    )
                if hits >= settings.min_hits:
                    break
        previous = current
    found = best is not None and hits >= settings.min_hits
    return FilterResult(
        detected_classes=[MOTION] if found else [],
        confidence=best.confidence if best and found else 0.0,
        frames_sampled=frames,
        best=best if found else None,
        model="motion",
        snapshot_jpeg=_snapshot(path, best) if best is not None and found else None,
    )


def _snapshot(path: Path, best: Detection) -> bytes | None:
    """The frame with the most motion, its changed area outlined (blocking).

    None when that frame cannot be decoded again: the motion still counts.
    """
    try:
        frames = frames_at(path, [best.frame_ts], SNAPSHOT_SIDE)
        try:
            sampled = next(frames, None)
        finally:
            frames.close()
    except VideoDecodeError:
        return None
    if sampled is None:
        return None
    return annotate(snapshot_rgb(sampled.source), [best], scores=False)


def _smooth(gray: GrayFrame) -> np.ndarray:
    """A 2x2 box average: removes single-pixel sensor noise cheaply."""
    frame = gray.astype(np.int16)
    frame[:-1, :-1] = (
        frame[:-1, :-1] + frame[1:, :-1] + frame[:-1, 1:] + frame[1:, 1:]
    ) // 4
    return frame


def _confidence(pct: float, settings: MotionSettings) -> float:
    """0.5 at the threshold, reaching 1.0 at four times the threshold."""
    return round(min(1.0, 0.5 + (pct / settings.min_changed_pct - 1.0) / 6.0), 3)


def _bounding_box(mask: np.ndarray) -> Box:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return Box(
        x1=round(float(cols[0]) / width, 4),
        y1=round(float(rows[0]) / height, 4),
        x2=round(float(cols[-1] + 1) / width, 4),
        y2=round(float(rows[-1] + 1) / height, 4),
    )
