"""The scan loop shared by model backends: sample, infer, apply rules, stop early.

Decoding and inference overlap: while the model looks at one sampled frame, the
decoder works on the next (inference runs on its own single worker).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..models import Detection, FilterResult
from .frames import SampledFrame, sample_frames, snapshot_rgb
from .parked import only_parked
from .rules import DetectionRules, RawDetection, group_of
from .snapshot import annotate

type Infer = Callable[[NDArray[np.uint8]], list[RawDetection]]


class ScanCancelledError(Exception):
    """The clip's task was cancelled while it was being scanned."""


@dataclass(slots=True)
class _Best:
    top: RawDetection
    matched: list[RawDetection]
    ts: float
    snapshot: Callable[[], NDArray[np.uint8]]
    parked: bool = False


class HitTracker:
    """Counts matching frames and keeps the best one, for any backend.

    A frame showing only the camera's parked objects (``rules.parked``) counts
    as a hit but does not end the scan early, and is the best frame only
    when no frame shows anything else: a newcomer later in the clip is seen.
    """

    def __init__(self, rules: DetectionRules) -> None:
        """Apply ``rules``."""
        self.rules = rules
        self.hits = 0
        self.news = 0
        """Hits with something other than parked objects."""
        self.frames = 0
        self.classes: set[str] = set()
        self._best: _Best | None = None

    @property
    def done(self) -> bool:
        """Whether enough frames with news matched to stop early."""
        return self.news >= self.rules.min_hits

    def add(
        self,
        ts: float,
        raw: list[RawDetection],
        snapshot: Callable[[], NDArray[np.uint8]],
    ) -> None:
        """Account for one sampled frame; ``snapshot`` gives its RGB image."""
        self.frames += 1
        matched = self.rules.matching(raw)
        if not matched:
            return
        self.hits += 1
        parked = bool(self.rules.parked) and only_parked(
            [(group_of(det.label), det.box) for det in matched], self.rules.parked
        )
        self.news += not parked
        self.classes.update(group_of(det.label) for det in matched)
        top = max(matched, key=lambda det: det.confidence)
        best = self._best
        if (
            best is None
            or (best.parked and not parked)
            or (best.parked == parked and top.confidence > best.top.confidence)
        ):
            self._best = _Best(top, matched, ts, snapshot, parked)

    def result(self, model: str, *, snapshot: bool = True) -> FilterResult:
        """The FilterResult, with an annotated snapshot of the best frame."""
        best = self._best
        if best is None or self.hits < self.rules.min_hits:
            return FilterResult(
                detected_classes=[],
                confidence=0.0,
                frames_sampled=self.frames,
                model=model,
            )
        boxes = [_detection(raw, best.ts) for raw in best.matched]
        jpeg = None
        if snapshot:
            groups = {det.label: group_of(det.label) for det in boxes}
            jpeg = annotate(best.snapshot(), boxes, groups)
        return FilterResult(
            detected_classes=sorted(self.classes),
            confidence=round(best.top.confidence, 4),
            frames_sampled=self.frames,
            best=_detection(best.top, best.ts),
            detections=boxes,
            model=model,
            snapshot_jpeg=jpeg,
        )


def scan(
    path: Path,
    *,
    infer: Infer,
    rules: DetectionRules,
    sample_fps: float,
    side: int,
    model: str,
    infer_executor: Executor | None = None,
    snapshot: bool = True,
    stop: Callable[[], bool] = lambda: False,
) -> FilterResult:
    """Scan a clip; stop as soon as ``rules.min_hits`` frames matched (blocking).

    ``stop`` is polled between frames: a cancelled clip stops decoding promptly.
    """
    tracker = HitTracker(rules)
    queue: deque[tuple[SampledFrame, Future[list[RawDetection]]]] = deque()

    def settle() -> None:
        sampled, future = queue.popleft()
        source = sampled.source
        tracker.add(sampled.ts, future.result(), lambda: snapshot_rgb(source))

    frames_iter = sample_frames(path, sample_fps, side)
    try:
        for sampled in frames_iter:
            if stop():
                raise ScanCancelledError(path.name)
            queue.append((sampled, _submit(infer_executor, infer, sampled.image)))
            while queue and not tracker.done and (len(queue) > 1 or queue[0][1].done()):
                settle()
            if tracker.done:
                break
        while queue and not tracker.done:
            settle()
    finally:
        for _, future in queue:
            future.cancel()
        frames_iter.close()
    return tracker.result(model, snapshot=snapshot)


def _submit(
    executor: Executor | None, infer: Infer, image: NDArray[np.uint8]
) -> Future[list[RawDetection]]:
    if executor is not None:
        return executor.submit(infer, image)
    future: Future[list[RawDetection]] = Future()
    try:
        future.set_result(infer(image))
    except Exception as err:  # noqa: BLE001 - re-raised by result()
        future.set_exception(err)
    return future


def _detection(raw: RawDetection, ts: float) -> Detection:
    return Detection(
        label=raw.label, confidence=raw.confidence, box=raw.box, frame_ts=ts
    )
