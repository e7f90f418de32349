"""Wrappers that report refused credentials (so the user can enter new ones)."""

from __future__ import annotations

from collections.abc import Callable

from .errors import CredentialsRejected
from .interfaces import Analyzer, ObjectDetector
from .models import AnalysisResult, Clip, FilterResult

type RejectionHandler = Callable[[CredentialsRejected], None]


class WatchedAnalyzer(Analyzer):
    """Tells ``on_rejected`` when the model server refuses the API key."""

    def __init__(self, inner: Analyzer, on_rejected: RejectionHandler) -> None:
        """Wrap ``inner`` (keeps its retry behaviour)."""
        self.inner = inner
        self.retries_itself = inner.retries_itself
        self._on_rejected = on_rejected

    async def analyze(self, clip: Clip, detections: FilterResult) -> AnalysisResult:
        """Analyze; report and re-raise refused credentials."""
        try:
            return await self.inner.analyze(clip, detections)
        except CredentialsRejected as err:
            self._on_rejected(err)
            raise


class WatchedDetector(ObjectDetector):
    """Tells ``on_rejected`` when the detection server refuses the API key."""

    def __init__(self, inner: ObjectDetector, on_rejected: RejectionHandler) -> None:
        """Wrap ``inner``."""
        self.inner = inner
        self._on_rejected = on_rejected

    async def detect(self, clip: Clip) -> FilterResult:
        """Detect; report and re-raise refused credentials."""
        try:
            return await self.inner.detect(clip)
        except CredentialsRejected as err:
            self._on_rejected(err)
            raise

    async def close(self) -> None:
        """Close the wrapped detector."""
        await self.inner.close()
