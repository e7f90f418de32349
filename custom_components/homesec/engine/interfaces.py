"""The small interfaces the pipeline is built from."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import NDArray

from .detect.rules import DetectionRules, RawDetection
from .faults import Fault

if TYPE_CHECKING:
    from .live import LiveCamera
from .models import (
    Alert,
    AlertDecision,
    AnalysisResult,
    Clip,
    ClipEvent,
    ClipState,
    FilterResult,
    UploadOutcome,
)

type ClipSink = Callable[[Clip], Awaitable[None]]
"""Where a source hands finalized clips (the pipeline's ``submit``)."""


class BlockingRunner(Protocol):
    """Runs a blocking callable off the event loop (an executor)."""

    def __call__[T, *Ts](self, target: Callable[[*Ts], T], *args: *Ts) -> Awaitable[T]:
        """Run ``target(*args)`` in a worker thread."""
        ...


class ClipSource(ABC):
    """Produces clips for one camera into the spool."""

    camera_name: str

    @abstractmethod
    async def start(self, sink: ClipSink) -> None:
        """Start producing clips; return once running."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop producing clips and release every resource."""

    @property
    @abstractmethod
    def problem(self) -> str | None:
        """What is wrong while unhealthy (no secrets), else None."""

    @property
    def fault(self) -> Fault | None:
        """The kind of ``problem``, in a word users read (None while healthy)."""
        return None if self.problem is None else Fault.UNKNOWN

    @property
    def healthy(self) -> bool:
        """Whether the source is currently working (it has no problem)."""
        return self.problem is None

    can_record: bool = False
    """Whether ``record`` works (cameras with a stream, not uploads)."""

    def record(self, seconds: float | None = None) -> None:
        """Record a clip from now on, without waiting for motion or a trigger."""
        raise NotImplementedError(f"{type(self).__name__} cannot record on demand")

    def watch_live(self, live: LiveCamera) -> bool:
        """Check frames for objects while recording; False: clips only."""
        return False


@dataclass(frozen=True, slots=True)
class FrameModel:
    """A detector's model, ready for single frames (live detection)."""

    side: int
    """The longer side, in pixels, of the RGB frames ``detect`` takes."""
    name: str
    rules: DetectionRules
    """The detector's own rules (a camera's replace them)."""
    detect: Callable[[NDArray[np.uint8], DetectionRules], Awaitable[list[RawDetection]]]
    """Objects in one RGB frame, found in the detector's executor."""


class ObjectDetector(ABC):
    """Finds objects (or motion) in a clip."""

    async def frame_model(self) -> FrameModel | None:
        """The model for single frames, loaded (None: clips only)."""
        return None

    @abstractmethod
    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Scan the clip; raise on unreadable input.

        ``rules`` are the clip's camera's (None: the detector's own).
        """

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release models and executors."""


class Analyzer(ABC):
    """Summarizes a clip with a vision-language model."""

    retries_itself: bool = False
    """True when the analyzer retries (paid) calls itself: the pipeline then
    does not retry its failures again."""

    @abstractmethod
    async def analyze(self, clip: Clip, detections: FilterResult) -> AnalysisResult:
        """Return a structured summary; raise on failure."""


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """One clip file kept by a storage."""

    camera_name: str
    name: str
    """The file name (``<clip_id><ext>``)."""
    size: int
    modified: datetime
    """When the storage wrote it (UTC)."""
    uri: str
    """The ``storage_uri`` a clip state holds for this copy."""

    @property
    def clip_id(self) -> str:
        """The clip the file is a copy of."""
        return self.name.rsplit(".", 1)[0]


class Storage(ABC):
    """Keeps a durable copy of clips."""

    @abstractmethod
    async def put(self, clip: Clip) -> UploadOutcome:
        """Store the clip (idempotent per clip id); raise on failure."""

    @abstractmethod
    async def ping(self) -> bool:
        """Whether the storage is reachable."""

    async def stored(self) -> list[StoredCopy]:
        """Every clip file the storage holds for HomeSec; raise when unreachable."""
        raise NotImplementedError(f"{type(self).__name__} cannot list its clips")

    async def delete_stored(self, copy: StoredCopy) -> None:
        """Delete one stored clip file (one already gone is fine); raise on failure."""
        raise NotImplementedError(f"{type(self).__name__} cannot delete clips")

    async def temporary_link(self, storage_uri: str) -> str | None:
        """A short-lived URL a browser plays the stored clip from; None: none."""
        return None

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


@dataclass(frozen=True, slots=True)
class HistoryPruned:
    """Progress of one history pruning pass (totals of its batches so far)."""

    states: int = 0
    """Clip states deleted."""
    events: int = 0
    """Clip events deleted."""
    kept_states: int = 0
    """Old finished clip states kept because their clip is still in the spool."""
    kept_events: int = 0
    """Old events kept because their clip is in the spool or unfinished."""
    states_done: bool = False
    done: bool = False


class StateStore(ABC):
    """Persists clip states and lifecycle events (written only by the repository)."""

    @abstractmethod
    async def start(self) -> None:
        """Create or migrate the schema; raise when unreachable."""

    @abstractmethod
    async def upsert_state(self, state: ClipState) -> None:
        """Insert or replace a clip's state document."""

    @abstractmethod
    async def append_event(self, event: ClipEvent) -> None:
        """Append one lifecycle event."""

    async def write(self, states: list[ClipState], events: list[ClipEvent]) -> None:
        """Write states and events together (one transaction where supported)."""
        for state in states:
            await self.upsert_state(state)
        for event in events:
            await self.append_event(event)

    async def recent_states(
        self, camera_name: str | None, limit: int
    ) -> list[ClipState]:
        """The newest ``limit`` clip states (of one camera), newest first."""
        raise NotImplementedError

    async def clip_ids(self, camera_name: str) -> list[str]:
        """Every clip id of a camera (cheap: no state documents are read)."""
        raise NotImplementedError

    def rejects_credentials(self, err: BaseException) -> bool:
        """Whether ``err`` means the server refused the stored credentials."""
        return False

    def refuses(self, err: BaseException) -> bool:
        """Whether ``err`` means the database refused a value of the write.

        Such a write fails again however often it is tried; the repository
        drops the refused rows alone and writes the others.
        """
        return False

    async def prune_history(
        self,
        before: datetime,
        keep: AbstractSet[str],
        limit: int,
        progress: HistoryPruned,
    ) -> HistoryPruned:
        """Delete one batch of at most ``limit`` history rows older than ``before``.

        Finished clips' states first, then events; never the state or events of
        a clip in ``keep`` (still in the spool) nor of an unfinished clip.
        Returns ``progress`` with this batch added (``done`` once nothing is left).
        """
        raise NotImplementedError

    @abstractmethod
    async def get_state(self, clip_id: str) -> ClipState | None:
        """Return a clip's state, or None."""

    @abstractmethod
    async def get_states(self, clip_ids: list[str]) -> dict[str, ClipState]:
        """Return the states of the clips that have one."""

    @abstractmethod
    async def close(self) -> None:
        """Close connections."""


class Notifier(ABC):
    """An output: delivers alerts (bus event, notification, MQTT...).

    Besides the alert, an output may hear of a clip's detection (before any
    summary) and of its end; both are best effort and never retried.
    """

    name: str

    @abstractmethod
    async def notify(self, alert: Alert) -> None:
        """Deliver the alert; raise on failure."""

    async def detected(self, clip: Clip, result: FilterResult) -> None:  # noqa: B027
        """Something was found in the clip (an alert may follow)."""

    async def finished(self, clip: Clip) -> None:  # noqa: B027
        """The clip's processing ended (with or without an alert)."""


class AlertPolicy(ABC):
    """Decides whether a clip is worth a summary, and whether it deserves an alert."""

    @abstractmethod
    def skip_analysis(
        self, camera_name: str, detections: FilterResult, now: datetime
    ) -> str | None:
        """Why the clip is not worth a summary now, or None to analyse it."""

    @abstractmethod
    def alerted(self, camera_name: str, now: datetime) -> None:
        """A camera's clip raised an alert at ``now``."""

    @abstractmethod
    def decide(
        self,
        camera_name: str,
        detections: FilterResult,
        analysis: AnalysisResult | None,
        unavailable: str | None = None,
    ) -> AlertDecision:
        """Return the decision with a readable reason."""
