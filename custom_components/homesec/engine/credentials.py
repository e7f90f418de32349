"""Wrappers that report refused credentials and failed uploads.

Refused credentials let the user enter new ones; failed uploads let stored
copies be caught up when the storage is back.
"""

from __future__ import annotations

from collections.abc import Callable

from .detect.rules import DetectionRules
from .errors import CredentialsRejected, DetectorUnavailable
from .interfaces import Analyzer, ObjectDetector, Storage
from .models import AnalysisResult, Clip, FilterResult, UploadOutcome

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


type DetectorStatus = Callable[[DetectorUnavailable | None], None]
"""Told after each scan: None when the detector answered, else why it could not."""


class WatchedDetector(ObjectDetector):
    """Reports refused credentials, and whether the detector answers."""

    def __init__(
        self,
        inner: ObjectDetector,
        on_rejected: RejectionHandler,
        on_status: DetectorStatus | None = None,
    ) -> None:
        """Wrap ``inner``."""
        self.inner = inner
        self._on_rejected = on_rejected
        self._on_status = on_status

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Detect; report refused credentials and (un)availability."""
        try:
            result = await self.inner.detect(clip, rules)
        except CredentialsRejected as err:
            self._on_rejected(err)
            raise
        except DetectorUnavailable as err:
            if self._on_status is not None:
                self._on_status(err)
            raise
        if self._on_status is not None:
            self._on_status(None)
        return result

    async def close(self) -> None:
        """Close the wrapped detector."""
        await self.inner.close()


class WatchedStorage(Storage):
    """Tells ``on_failure`` when a clip could not be stored (any cause)."""

    def __init__(self, inner: Storage, on_failure: Callable[[Exception], None]) -> None:
        """Wrap ``inner``."""
        self.inner = inner
        self._on_failure = on_failure

    async def put(self, clip: Clip) -> UploadOutcome:
        """Store; report and re-raise a failure."""
        try:
            return await self.inner.put(clip)
        except Exception as err:
            self._on_failure(err)
            raise

    async def ping(self) -> bool:
        """Ask the wrapped storage."""
        return await self.inner.ping()

    async def temporary_link(self, storage_uri: str) -> str | None:
        """Ask the wrapped storage."""
        return await self.inner.temporary_link(storage_uri)

    async def close(self) -> None:
        """Close the wrapped storage."""
        await self.inner.close()
