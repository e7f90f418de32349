"""Stationary objects: a box that stays put across a camera's clips alerts once.

Each camera keeps the boxes of its latest clip (and of objects missing from
it, until they are forgotten). An object of a new clip whose box overlaps one
of those (same group, IoU at or above the threshold) is *stationary*: a parked
car, a bin, a person asleep on a bench. Its detection is recorded, but a clip
in which every object is stationary is not analysed and does not alert.

Fault classes, and what happens:

* A clip processed after a newer one (catch-up, newest first): it is
  classified against the newer boxes but changes nothing.
* The same clip classified twice (resumed after a restart): its own boxes are
  never "earlier", so the answer is the same.
* No answer from the detector, detection switched off, a clip without a
  frame: no classification, and the boxes stay (nothing seen is not "gone").
* A detector that gives classes without boxes (motion): not tracked.
* Clock set back after the boxes were kept: boxes stamped ahead of the wall
  clock cannot be trusted to order clips; the next clip replaces them.
* Cameras removed: their boxes are dropped when the tracker is restored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ..models import Box, Clip, Detection, FilterResult
from .parked import SAME_PLACE_IOU, ParkedBox, overlaps
from .rules import group_of

MAX_BOXES = 64
"""Boxes kept per camera (latest clip first, then the longest seen)."""
CLOCK_SLACK = timedelta(minutes=10)
"""How far ahead of the wall clock kept boxes may be stamped before distrust."""
NOT_TRACKED = frozenset({"motion"})
"""Labels that are regions, not objects."""


class StationarySettings(BaseModel):
    """When a box counts as the same object, and how long a missing one is kept."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = True
    iou_threshold: float = Field(default=SAME_PLACE_IOU, gt=0, le=1)
    forget_after: timedelta = timedelta(minutes=15)
    """An object missing from the camera's clips this long is new when back."""


@dataclass(frozen=True, slots=True)
class TrackedBox:
    """An object a camera saw, where it stands, and since when."""

    group: str
    box: Box
    first_clip: str
    """The clip that first showed it here (never stationary in that clip)."""
    first_seen: AwareDatetime
    missing_since: AwareDatetime | None = None
    """Start of the first later clip that did not show it (None: it did)."""


@dataclass(frozen=True, slots=True)
class CameraBoxes:
    """The boxes of one camera after its latest clip."""

    clip_id: str
    clip_start: AwareDatetime
    boxes: tuple[TrackedBox, ...] = ()


class TrackerSnapshot(BaseModel):
    """What is saved across restarts."""

    cameras: dict[str, CameraBoxes] = Field(default_factory=dict)


def _match(
    detections: Sequence[Detection], boxes: Sequence[TrackedBox], threshold: float
) -> dict[int, int]:
    """Detection index -> box index, each used once, best overlaps first."""
    if not detections or not boxes:
        return {}
    iou = overlaps([d.box for d in detections], [t.box for t in boxes])
    groups = [group_of(d.label) for d in detections]
    pairs = sorted(
        (
            (float(iou[i, j]), int(i), int(j))
            for i, j in np.argwhere(iou >= threshold)
            if groups[i] == boxes[j].group
        ),
        reverse=True,
    )
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in pairs:
        if i not in matched and j not in used:
            matched[i] = j
            used.add(j)
    return matched


class StationaryTracker:
    """Tells which detections of a clip stood still since an earlier clip."""

    def __init__(
        self,
        settings: StationarySettings,
        cameras: Collection[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Track ``cameras``; ``clock`` is the wall clock (for clock jumps)."""
        self.settings = settings
        self._known = frozenset(cameras)
        self._clock = clock
        self._cameras: dict[str, CameraBoxes] = {}
        self._listeners: list[Callable[[], None]] = []

    def watch(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each change of the kept boxes (to save them)."""
        self._listeners.append(listener)

    def mark(self, clip: Clip, result: FilterResult) -> FilterResult:
        """``result`` with its stationary detections flagged (the boxes move on).

        Left unchanged when tracking is off, nothing was sampled, or the
        detector gave classes without boxes.
        """
        if not self.settings.enabled or result.frames_sampled == 0:
            return result
        if result.detected_classes and not result.detections:
            return result
        if any(det.label in NOT_TRACKED for det in result.detections):
            return result
        flags = self.classify(
            clip.camera_name, clip.clip_id, result.detections, clip.start_ts
        )
        detections = [
            det.model_copy(update={"stationary": still})
            if still != det.stationary
            else det
            for det, still in zip(result.detections, flags, strict=True)
        ]
        still_groups = {group_of(d.label) for d in detections if d.stationary}
        every = bool(detections) and all(d.stationary for d in detections)
        best = result.best
        if best is not None:
            best = next(
                (d for d in detections if _same(d, best)),
                best,
            )
        return result.model_copy(
            update={
                "detections": detections,
                "best": best,
                # A class seen only in other frames may be a newcomer.
                "stationary": every and set(result.detected_classes) <= still_groups,
            }
        )

    def classify(
        self,
        camera: str,
        clip_id: str,
        detections: Sequence[Detection],
        start: datetime,
    ) -> list[bool]:
        """Which of a clip's detections are stationary; keeps the clip's boxes.

        A clip older than the kept boxes is classified against them and
        changes nothing.
        """
        kept = self._cameras.get(camera)
        boxes = kept.boxes if kept is not None else ()
        matched = _match(detections, boxes, self.settings.iou_threshold)
        flags = [
            i in matched and self._still(boxes[matched[i]], clip_id, start)
            for i in range(len(detections))
        ]
        if kept is None or start >= kept.clip_start or self._untrusted(kept):
            self._keep(camera, clip_id, start, detections, matched=matched)
        return flags

    def _still(self, tracked: TrackedBox, clip_id: str, start: datetime) -> bool:
        if tracked.first_clip == clip_id:
            return False  # the same clip again: it is where the object arrived
        missing = tracked.missing_since
        return missing is None or start - missing < self.settings.forget_after

    def _untrusted(self, kept: CameraBoxes) -> bool:
        return kept.clip_start > self._clock() + CLOCK_SLACK

    def _keep(
        self,
        camera: str,
        clip_id: str,
        start: datetime,
        detections: Sequence[Detection],
        *,
        matched: Mapping[int, int],
    ) -> None:
        """Keep the clip's boxes, and those missing from it until forgotten."""
        boxes = self.boxes(camera)
        seen: list[TrackedBox] = []
        for i, det in enumerate(detections):
            j = matched.get(i)
            if j is not None and self._still(boxes[j], clip_id, start):
                # Anchored where it stopped: a slow drift adds up to a move.
                kept = boxes[j]
                seen.append(
                    kept
                    if kept.missing_since is None
                    else replace(kept, missing_since=None)
                )
            else:
                seen.append(
                    TrackedBox(
                        group=group_of(det.label),
                        box=det.box,
                        first_clip=clip_id,
                        first_seen=start,
                    )
                )
        used = set(matched.values())
        missing = [
            box if box.missing_since else replace(box, missing_since=start)
            for j, box in enumerate(boxes)
            if j not in used
        ]
        forget = self.settings.forget_after
        missing = [
            box for box in missing if start - (box.missing_since or start) < forget
        ]
        missing.sort(key=lambda box: box.first_seen)
        self._cameras[camera] = CameraBoxes(
            clip_id=clip_id,
            clip_start=start,
            boxes=tuple([*seen, *missing][:MAX_BOXES]),
        )
        for listener in self._listeners:
            listener()

    def parked(self, camera: str) -> tuple[ParkedBox, ...]:
        """Where the camera's objects stood in its latest clips, for its scans."""
        return tuple(ParkedBox(group=b.group, box=b.box) for b in self.boxes(camera))

    def boxes(self, camera: str) -> tuple[TrackedBox, ...]:
        """The boxes kept for ``camera``."""
        kept = self._cameras.get(camera)
        return kept.boxes if kept is not None else ()

    def export(self) -> dict[str, Any]:
        """The kept boxes, JSON-ready."""
        return TrackerSnapshot(cameras=self._cameras).model_dump(mode="json")

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take saved boxes back, for the cameras that still exist.

        Raises ``ValueError`` (a pydantic ``ValidationError``) for data that is
        no snapshot.
        """
        saved = TrackerSnapshot.model_validate(data)
        self._cameras = {
            camera: CameraBoxes(
                clip_id=kept.clip_id,
                clip_start=kept.clip_start,
                boxes=kept.boxes[:MAX_BOXES],
            )
            for camera, kept in saved.cameras.items()
            if camera in self._known
        }


def _same(a: Detection, b: Detection) -> bool:
    return a.label == b.label and a.box == b.box and a.frame_ts == b.frame_ts
