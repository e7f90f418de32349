"""The scan loop shared by model backends: sample, infer, apply rules, stop early.

Decoding and inference overlap: while the model looks at one sampled frame, the
decoder works on the next (inference runs on its own single worker).

Keyframes first: the sampled frames that are keyframes decode for a fraction of
the cost of the others, so they are scanned first; the frames in between are
decoded only when the keyframes did not satisfy the rules, and those already
inferred (told apart by pts) are not inferred again. The next keyframe is
decoded while the model looks at one, but a keyframe whose result may satisfy
the rules is settled before the next is inferred: a scan that a keyframe decides
has decoded at most one more keyframe, and inferred none.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from ..models import Detection, FilterResult
from .frames import SampledFrame, decoded_again, sample_frames, snapshot_rgb
from .keyframes import KeyframePass, sample_between, sample_keyframes
from .parked import only_parked
from .rules import DetectionRules, RawDetection
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

    def may_finish(self, pending: int) -> bool:
        """Whether ``pending`` frames still being inferred may make it ``done``."""
        return self.news + pending >= self.rules.min_hits

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
            [(self.rules.group_of(det.label), det.box) for det in matched],
            self.rules.parked,
        )
        self.news += not parked
        self.classes.update(self.rules.group_of(det.label) for det in matched)
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
        boxes = [_detection(raw, best.ts, self.rules) for raw in best.matched]
        jpeg = None
        if snapshot:
            groups = {det.label: self.rules.group_of(det.label) for det in boxes}
            jpeg = annotate(best.snapshot(), boxes, groups)
        return FilterResult(
            detected_classes=sorted(self.classes),
            confidence=round(best.top.confidence, 4),
            frames_sampled=self.frames,
            best=_detection(best.top, best.ts, self.rules),
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
    keyframes_first: bool = True,
) -> FilterResult:
    """Scan a clip; stop as soon as ``rules.min_hits`` frames matched (blocking).

    With ``keyframes_first`` the sampled keyframes are scanned before the other
    sampled frames (each frame is inferred once); without it the sampled
    frames are scanned in order. ``stop`` is polled between frames: a cancelled
    clip stops decoding promptly.
    """
    scanner = _Scanner(path, HitTracker(rules), infer, infer_executor, stop)
    if not keyframes_first:
        scanner.run(sample_frames(path, sample_fps, side))
    else:
        found = KeyframePass()
        keyframes = sample_keyframes(path, sample_fps, side, found)
        scanner.run(keyframes, settle_deciding=True)
        if not scanner.tracker.done and not found.covers_grid:
            scanner.run(sample_between(path, sample_fps, side, found))
    return scanner.tracker.result(model, snapshot=snapshot)


@dataclass(slots=True)
class _Scanner:
    """Infers frames one ahead of the decoder and feeds the tracker."""

    path: Path
    tracker: HitTracker
    infer: Infer
    executor: Executor | None
    stop: Callable[[], bool]

    def run(
        self, frames: Generator[SampledFrame], *, settle_deciding: bool = False
    ) -> None:
        """Infer ``frames`` until the tracker is done or they end; close them.

        The next frame is decoded while the model looks at the last one; with
        ``settle_deciding``, it is not inferred while that one's result may end
        the scan.
        """
        tracker = self.tracker
        queue: deque[tuple[SampledFrame, Future[list[RawDetection]]]] = deque()

        def settle() -> None:
            sampled, future = queue.popleft()
            snapshot = partial(_snapshot, self.path, sampled.source, sampled.exact)
            tracker.add(sampled.ts, future.result(), snapshot)

        try:
            if self.stop():
                raise ScanCancelledError(self.path.name)
            for sampled in frames:
                if self.stop():
                    raise ScanCancelledError(self.path.name)
                decided = False
                while settle_deciding and queue and tracker.may_finish(len(queue)):
                    settle()
                    decided = tracker.done
                    if decided:
                        break
                if decided:
                    break  # this frame was decoded for nothing
                future = _submit(self.executor, self.infer, sampled.image)
                queue.append((sampled, future))
                while (
                    queue
                    and not tracker.done
                    and (len(queue) > 1 or queue[0][1].done())
                ):
                    settle()
                if tracker.done:
                    break
            while queue and not tracker.done:
                settle()
        finally:
            for _, future in queue:
                future.cancel()
            frames.close()


def _snapshot(path: Path, source: av.VideoFrame, exact: bool) -> NDArray[np.uint8]:
    """A sampled frame's snapshot picture (decoded again if not ``exact``)."""
    return snapshot_rgb(source if exact else decoded_again(path, source))


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


def _detection(raw: RawDetection, ts: float, rules: DetectionRules) -> Detection:
    return Detection(
        label=raw.label,
        confidence=raw.confidence,
        box=raw.box,
        frame_ts=ts,
        zones=rules.zones_of(raw.box),
    )
