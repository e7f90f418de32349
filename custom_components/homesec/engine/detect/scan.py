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
from .rules import DetectionRules, RawDetection, group_of
from .snapshot import annotate

type Infer = Callable[[NDArray[np.uint8]], list[RawDetection]]


class ScanCancelledError(Exception):
    """The clip's task was cancelled while it was being scanned."""


@dataclass(slots=True)
class _Best:
    top: RawDetection
    matched: list[RawDetection]
    sampled: SampledFrame


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
    hits = 0
    frames = 0
    classes: set[str] = set()
    best: _Best | None = None
    queue: deque[tuple[SampledFrame, Future[list[RawDetection]]]] = deque()

    def settle(sampled: SampledFrame, raw: list[RawDetection]) -> None:
        nonlocal hits, best
        matched = rules.matching(raw)
        if not matched:
            return
        hits += 1
        classes.update(group_of(det.label) for det in matched)
        top = max(matched, key=lambda det: det.confidence)
        if best is None or top.confidence > best.top.confidence:
            best = _Best(top, matched, sampled)

    frames_iter = sample_frames(path, sample_fps, side)
    try:
        for sampled in frames_iter:
            if stop():
                raise ScanCancelledError(path.name)
            frames += 1
            queue.append((sampled, _submit(infer_executor, infer, sampled.image)))
            while queue and (len(queue) > 1 or queue[0][1].done()):
                done, future = queue.popleft()
                settle(done, future.result())
                if hits >= rules.min_hits:
                    break
            if hits >= rules.min_hits:
                break
        while queue and hits < rules.min_hits:
            done, future = queue.popleft()
            settle(done, future.result())
    finally:
        for _, future in queue:
            future.cancel()
        frames_iter.close()
    return _result(
        best=best,
        hits=hits,
        frames=frames,
        classes=classes,
        rules=rules,
        model=model,
        snapshot=snapshot,
    )


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


def _result(
    *,
    best: _Best | None,
    hits: int,
    frames: int,
    classes: set[str],
    rules: DetectionRules,
    model: str,
    snapshot: bool,
) -> FilterResult:
    if best is None or hits < rules.min_hits:
        return FilterResult(
            detected_classes=[], confidence=0.0, frames_sampled=frames, model=model
        )
    ts = best.sampled.ts
    boxes = [_detection(raw, ts) for raw in best.matched]
    jpeg = None
    if snapshot:
        groups = {det.label: group_of(det.label) for det in boxes}
        jpeg = annotate(snapshot_rgb(best.sampled.source), boxes, groups)
    return FilterResult(
        detected_classes=sorted(classes),
        confidence=round(best.top.confidence, 4),
        frames_sampled=frames,
        best=_detection(best.top, ts),
        detections=boxes,
        model=model,
        snapshot_jpeg=jpeg,
    )
