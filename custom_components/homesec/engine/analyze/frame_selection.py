"""Which frames a model sees: few, small, and around what was detected."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from ..detect.frames import frames_at, sample_times
from ..models import Box, FilterResult


class FrameSelection(BaseModel):
    """How many frames, how big, how compressed, and whether to crop."""

    model_config = ConfigDict(frozen=True)

    max_frames: int = Field(default=4, ge=1, le=20)
    max_size: int = Field(default=768, ge=128, le=2048)
    quality: int = Field(default=75, ge=30, le=95)
    crop: bool = False
    sample_fps: float = Field(default=2.0, gt=0)


def choose(timestamps: list[float], k: int, focus: float | None) -> list[int]:
    """Indices of up to ``k`` frames: half nearest ``focus``, the rest spread."""
    count = len(timestamps)
    if count <= k:
        return list(range(count))
    chosen: set[int] = set()
    if focus is not None:
        nearest = sorted(range(count), key=lambda i: abs(timestamps[i] - focus))
        chosen.update(nearest[: (k + 1) // 2])
    rest = [i for i in range(count) if i not in chosen]
    spread = k - len(chosen)
    for n in range(spread):
        chosen.add(rest[round(n * (len(rest) - 1) / max(1, spread - 1))])
    return sorted(chosen)


def crop_box(box: Box, margin: float = 0.5) -> Box:
    """The detection box grown by ``margin`` of its size, at least half the frame."""
    width = max(0.5, (box.x2 - box.x1) * (1 + 2 * margin))
    height = max(0.5, (box.y2 - box.y1) * (1 + 2 * margin))
    cx, cy = (box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2
    x1 = min(max(0.0, cx - width / 2), max(0.0, 1 - width))
    y1 = min(max(0.0, cy - height / 2), max(0.0, 1 - height))
    return Box(x1=x1, y1=y1, x2=min(1.0, x1 + width), y2=min(1.0, y1 + height))


def select_jpegs(
    path: Path, detections: FilterResult, settings: FrameSelection
) -> list[tuple[float, bytes]]:
    """``(seconds, JPEG)`` of the chosen frames (blocking).

    The sampled frames' times come from a demux pass; only the chosen frames are
    then decoded, so memory and time hardly grow with the clip's length.
    """
    times = sample_times(path, settings.sample_fps)
    focus = detections.best.frame_ts if detections.best else None
    chosen = [times[i] for i in choose(times, settings.max_frames, focus)]
    region = (
        crop_box(detections.best.box) if settings.crop and detections.best else None
    )
    return [
        (sampled.ts, _jpeg(sampled.image, region, settings.quality))
        for sampled in frames_at(path, chosen, settings.max_size)
    ]


def _jpeg(rgb: NDArray[np.uint8], region: Box | None, quality: int) -> bytes:
    """``rgb`` as JPEG, cropped to ``region`` (relative) when given."""
    image = Image.fromarray(rgb)
    if region is not None:
        w, h = image.size
        image = image.crop(
            (
                int(region.x1 * w),
                int(region.y1 * h),
                int(region.x2 * w),
                int(region.y2 * h),
            )
        )
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
