"""Live motion detection: blurred frame differencing on small grey frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..detect.zones import Polygon, raster


def box_blur(gray: NDArray[np.uint8], size: int) -> NDArray[np.int32]:
    """Average over a ``size`` x ``size`` box (integral image; 1 or less: none)."""
    if size <= 1:
        return gray.astype(np.int32)
    pad = size // 2
    padded = np.pad(gray.astype(np.int32), ((pad, size - 1 - pad),) * 2, mode="edge")
    summed = padded.cumsum(axis=0).cumsum(axis=1)
    summed = np.pad(summed, ((1, 0), (1, 0)))
    total = (
        summed[size:, size:]
        - summed[:-size, size:]
        - summed[size:, :-size]
        + summed[:-size, :-size]
    )
    blurred: NDArray[np.int32] = total // (size * size)
    return blurred


class MotionGate:
    """Says whether a frame changed enough from the previous one."""

    def __init__(
        self,
        pixel_threshold: int,
        min_changed_pct: float,
        blur: int,
        masks: Sequence[Polygon] = (),
    ) -> None:
        """A pixel changed when it moved more than ``pixel_threshold`` grey levels.

        Changes inside ``masks`` (the camera's masked areas) do not count.
        """
        self._masks = tuple(masks)
        self._hidden: NDArray[np.bool_] | None = None
        self._threshold = pixel_threshold
        self._min_pct = min_changed_pct
        self._blur = blur
        self._previous: NDArray[np.int32] | None = None
        self.last_pct = 0.0

    def reset(self) -> None:
        """Forget the previous frame (the stream restarted)."""
        self._previous = None

    def feed(self, gray: NDArray[np.uint8]) -> bool:
        """Whether ``gray`` shows motion against the previous frame."""
        current = box_blur(gray, self._blur)
        previous, self._previous = self._previous, current
        if previous is None or previous.shape != current.shape:
            self.last_pct = 0.0
            return False
        changed = np.abs(current - previous) > self._threshold
        if self._masks:
            if self._hidden is None or self._hidden.shape != changed.shape:
                height, width = changed.shape
                self._hidden = raster(self._masks, width, height)
            changed &= ~self._hidden
        self.last_pct = float(changed.mean() * 100.0)
        return self.last_pct >= self._min_pct
