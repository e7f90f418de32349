"""Per-camera switches: skip detection, or hold back notifications."""

from __future__ import annotations

from collections.abc import Callable

from .detect.rules import DetectionRules
from .interfaces import Notifier, ObjectDetector
from .models import Alert, Clip, FilterResult

type CameraGate = Callable[[str], bool]
"""Camera id -> whether the feature is on."""


class GatedDetector(ObjectDetector):
    """Scans only clips of cameras whose detection is on (others find nothing)."""

    def __init__(self, inner: ObjectDetector, enabled: CameraGate) -> None:
        """Wrap ``inner``."""
        self.inner = inner
        self._enabled = enabled

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Scan, or report nothing when the camera's detection is off."""
        if not self._enabled(clip.camera_name):
            return FilterResult(
                detected_classes=[], confidence=0.0, frames_sampled=0, model="off"
            )
        return await self.inner.detect(clip, rules)

    async def close(self) -> None:
        """Close the wrapped detector."""
        await self.inner.close()


class GatedNotifier(Notifier):
    """Delivers only for cameras whose notifications are on."""

    def __init__(self, inner: Notifier, enabled: CameraGate) -> None:
        """Wrap ``inner`` (keeps its name)."""
        self.inner = inner
        self.name = inner.name
        self._enabled = enabled

    async def notify(self, alert: Alert) -> None:
        """Deliver, or hold it back while the camera's notifications are off."""
        if self._enabled(alert.camera_name):
            await self.inner.notify(alert)

    async def detected(self, clip: Clip, result: FilterResult) -> None:
        """Pass the early word on, unless the camera's notifications are off."""
        if self._enabled(clip.camera_name):
            await self.inner.detected(clip, result)

    async def finished(self, clip: Clip) -> None:
        """Always pass the end on (an earlier word may need taking back)."""
        await self.inner.finished(clip)
