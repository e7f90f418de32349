"""Boxes of parked objects, and whether a frame shows nothing but them.

The stationary tracker hands a camera's kept boxes to the scan through its
detection rules: a frame in which every matching object stands on one of them
is no reason to stop scanning early, so a newcomer later in the clip is seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict

from ..models import Box

SAME_PLACE_IOU = 0.7
"""Boxes overlapping this much (intersection over union) are one place."""


class ParkedBox(BaseModel):
    """Where an object of a group stood still in the camera's earlier clips."""

    model_config = ConfigDict(frozen=True)

    group: str
    box: Box


def _corners(boxes: Iterable[Box]) -> NDArray[np.float64]:
    return np.array(
        [(b.x1, b.y1, b.x2, b.y2) for b in boxes], dtype=np.float64
    ).reshape(-1, 4)


def overlaps(a: Sequence[Box], b: Sequence[Box]) -> NDArray[np.float64]:
    """Intersection over union of every box of ``a`` with every box of ``b``."""
    p, q = _corners(a)[:, None, :], _corners(b)[None, :, :]
    w = np.minimum(p[..., 2], q[..., 2]) - np.maximum(p[..., 0], q[..., 0])
    h = np.minimum(p[..., 3], q[..., 3]) - np.maximum(p[..., 1], q[..., 1])
    inter = np.clip(w, 0, None) * np.clip(h, 0, None)
    area_p = (p[..., 2] - p[..., 0]) * (p[..., 3] - p[..., 1])
    area_q = (q[..., 2] - q[..., 0]) * (q[..., 3] - q[..., 1])
    union = area_p + area_q - inter
    out: NDArray[np.float64] = np.zeros(inter.shape, dtype=np.float64)
    np.divide(inter, union, out=out, where=(union > 0) & (inter > 0))
    return out


def only_parked(
    found: Sequence[tuple[str, Box]],
    parked: Sequence[ParkedBox],
    threshold: float = SAME_PLACE_IOU,
) -> bool:
    """Whether every ``(group, box)`` found stands on a parked box of its group."""
    if not found or not parked:
        return False
    iou = overlaps([box for _, box in found], [p.box for p in parked])
    return all(
        any(
            iou[i, j] >= threshold and parked[j].group == group
            for j in range(len(parked))
        )
        for i, (group, _) in enumerate(found)
    )
