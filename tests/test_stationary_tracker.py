"""The stationary tracker on its own: which boxes stood still, in every order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from custom_components.homesec.engine.detect.parked import ParkedBox, overlaps
from custom_components.homesec.engine.detect.stationary import (
    MAX_BOXES,
    StationarySettings,
    StationaryTracker,
)
from custom_components.homesec.engine.models import (
    Box,
    Clip,
    ClipState,
    Detection,
    FilterResult,
)
from custom_components.homesec.engine.pending_journal import PendingWrites

T0 = datetime(2026, 5, 1, 22, 0, tzinfo=UTC)
CAR = Box(x1=0.1, y1=0.5, x2=0.4, y2=0.9)
CAR_NUDGED = Box(x1=0.11, y1=0.5, x2=0.41, y2=0.9)  # IoU 0.94
CAR_MOVED = Box(x1=0.3, y1=0.5, x2=0.6, y2=0.9)  # IoU 0.2
PERSON = Box(x1=0.6, y1=0.2, x2=0.7, y2=0.8)


def tracker(minutes: float = 15, now: datetime = T0) -> StationaryTracker:
    """A tracker of camera "drive" whose wall clock stands at ``now``."""
    return StationaryTracker(
        StationarySettings(forget_after=timedelta(minutes=minutes)),
        ["drive"],
        clock=lambda: now,
    )


def clip(minute: float, camera: str = "drive") -> Clip:
    """A clip of ``camera`` starting ``minute`` minutes after T0."""
    start = T0 + timedelta(minutes=minute)
    return Clip(
        clip_id=f"{camera}_{start:%H%M%S}",
        camera_name=camera,
        local_path=Path(f"/spool/{camera}.mp4"),
        start_ts=start,
        source_type="folder",
    )


def found(*objects: tuple[str, Box]) -> FilterResult:
    """What a detector reports for a frame with ``objects`` (label, box)."""
    detections = [
        Detection(label=label, confidence=0.9, box=box, frame_ts=1.0)
        for label, box in objects
    ]
    classes = sorted({"vehicle" if label in {"car", "truck"} else label
                      for label, _ in objects})  # fmt: skip
    return FilterResult(
        detected_classes=classes,
        confidence=0.9 if objects else 0.0,
        frames_sampled=4,
        best=detections[0] if detections else None,
        detections=detections,
        model="yolo",
    )


def flags(result: FilterResult) -> list[bool]:
    """Which detections were marked stationary."""
    return [det.stationary for det in result.detections]


def test_same_place_is_stationary_until_moved() -> None:
    """A car at the same place is stationary; moved, it is new, then stationary."""
    # Given a tracker that saw a car arrive
    t = tracker()
    first = t.mark(clip(0), found(("car", CAR)))

    # When the next clips show it nudged (detector jitter), then moved
    same = t.mark(clip(1), found(("truck", CAR_NUDGED)))
    moved = t.mark(clip(2), found(("car", CAR_MOVED)))
    parked_again = t.mark(clip(3), found(("car", CAR_MOVED)))

    # Then it alerts on arrival and on its move only (car/truck is one group)
    assert (first.stationary, flags(first)) == (False, [False])
    assert (same.stationary, flags(same)) == (True, [True])
    assert (moved.stationary, flags(moved)) == (False, [False])
    assert parked_again.stationary
    assert same.best is not None and same.best.stationary


def test_a_newcomer_next_to_a_parked_car_is_news() -> None:
    """The car stays stationary, the person makes the clip a normal one."""
    # Given a parked car
    t = tracker()
    t.mark(clip(0), found(("car", CAR)))

    # When a person walks up to it, and when only another frame had a person
    with_person = t.mark(clip(1), found(("car", CAR), ("person", PERSON)))
    elsewhere = found(("car", CAR)).model_copy(
        update={"detected_classes": ["person", "vehicle"]}
    )
    person_in_other_frame = t.mark(clip(2), elsewhere)

    # Then the car is flagged, the clips are not stationary
    assert flags(with_person) == [True, False]
    assert not with_person.stationary
    assert flags(person_in_other_frame) == [True]
    assert not person_in_other_frame.stationary


def test_missing_longer_than_the_setting_is_new_again() -> None:
    """Missing briefly: still parked; missing past the setting: new when back."""
    # Given a parked car, forgotten after 10 minutes missing
    t = tracker(minutes=10)
    t.mark(clip(0), found(("car", CAR)))
    t.mark(clip(1), found(("car", CAR)))

    # When a clip without it comes, then it is back 5 min later; then it is
    # missing again and back 11 min later
    t.mark(clip(2), found())
    back_soon = t.mark(clip(7), found(("car", CAR)))
    t.mark(clip(8), found())
    back_late = t.mark(clip(19), found(("car", CAR)))

    # Then the short absence keeps it parked, the long one makes it new
    assert back_soon.stationary
    assert not back_late.stationary
    assert flags(back_late) == [False]


def test_no_answer_is_not_absence() -> None:
    """Detection off or nothing sampled leaves the boxes alone."""
    # Given a parked car, forgotten after 10 minutes missing
    t = tracker(minutes=10)
    t.mark(clip(0), found(("car", CAR)))
    off = FilterResult(
        detected_classes=[], confidence=0.0, frames_sampled=0, model="off"
    )

    # When clips come with detection off for an hour, then it is seen again
    for minute in range(1, 60, 5):
        assert t.mark(clip(minute), off) is off
    again = t.mark(clip(61), found(("car", CAR)))

    # Then it was never missing: still parked
    assert again.stationary


def test_a_late_clip_does_not_overwrite_newer_boxes() -> None:
    """Clips caught up newest first: the older one reads, the newer one stays."""
    # Given the newest clip (car parked at the new place) processed first
    t = tracker()
    t.mark(clip(5), found(("car", CAR_MOVED)))
    t.mark(clip(6), found(("car", CAR_MOVED)))

    # When an older clip with the car at its old place is processed late
    late = t.mark(clip(1), found(("car", CAR)))
    after = t.mark(clip(7), found(("car", CAR_MOVED)))

    # Then the late one is judged against the newer boxes and changes nothing
    assert not late.stationary
    assert after.stationary
    assert [b.box for b in t.boxes("drive")] == [CAR_MOVED]


def test_the_same_clip_again_gives_the_same_answer() -> None:
    """A clip resumed after a restart is not stationary by its own boxes."""
    # Given a car that arrived in a clip, and one that stayed
    t = tracker()
    arrived = t.mark(clip(0), found(("car", CAR)))
    stayed = t.mark(clip(1), found(("car", CAR)))

    # When the latest clip is classified again
    again = t.mark(clip(1), found(("car", CAR)))

    # Then the answer is the same, and the arrival clip still alerts
    assert (arrived.stationary, stayed.stationary) == (False, True)
    assert again.stationary
    first = tracker()
    first.mark(clip(0), found(("car", CAR)))
    assert not first.mark(clip(0), found(("car", CAR))).stationary


def test_boxes_stamped_ahead_of_the_clock_give_way() -> None:
    """After the clock was set back, the next clip replaces the kept boxes."""
    # Given boxes kept while the clock was a day ahead
    t = tracker(now=T0)
    t.mark(clip(24 * 60), found(("car", CAR)))

    # When clips come at the real time
    first = t.mark(clip(0), found(("car", CAR_MOVED)))
    second = t.mark(clip(1), found(("car", CAR_MOVED)))

    # Then they move the boxes on as usual
    assert not first.stationary
    assert second.stationary


def test_motion_and_boxless_results_are_not_tracked() -> None:
    """Motion regions and classes without boxes pass unchanged."""
    # Given a tracker
    t = tracker()
    motion = found(("motion", CAR))
    boxless = FilterResult(
        detected_classes=["person"], confidence=0.8, frames_sampled=3, model="r"
    )

    # When they are marked twice
    for _ in range(2):
        assert t.mark(clip(0), motion) is motion
        assert t.mark(clip(1), boxless) is boxless

    # Then nothing was kept
    assert t.boxes("drive") == ()


def test_export_restore_drops_removed_cameras_and_stays_bounded() -> None:
    """Saved boxes come back for cameras that exist, at most MAX_BOXES each."""
    # Given boxes for a camera that stays and one that was removed
    t = StationaryTracker(StationarySettings(), ["drive", "gone"])
    many = [("person", Box(x1=i / 200, y1=0, x2=i / 200 + 0.001, y2=0.1))
            for i in range(MAX_BOXES + 10)]  # fmt: skip
    t.mark(clip(0), found(*many))
    t.mark(clip(0, camera="gone"), found(("car", CAR)))
    saved = t.export()

    # When a tracker of the remaining camera restores them
    restored = StationaryTracker(StationarySettings(), ["drive"])
    restored.restore(saved)

    # Then the removed camera's boxes are gone, the bound holds, and the
    # restored boxes still make the next clip stationary
    assert len(restored.boxes("drive")) == MAX_BOXES
    assert restored.boxes("gone") == ()
    assert restored.mark(clip(1), found(*many[:5])).stationary
    with pytest.raises(ValueError, match="validation"):
        restored.restore({"cameras": {"drive": {"boxes": "nonsense"}}})


def test_off_leaves_every_result_alone() -> None:
    """With tracking off nothing is ever stationary."""
    # Given tracking turned off
    t = StationaryTracker(StationarySettings(enabled=False), ["drive"])

    # When the same car is seen twice
    t.mark(clip(0), found(("car", CAR)))
    second = t.mark(clip(1), found(("car", CAR)))

    # Then it is not stationary
    assert not second.stationary


def test_overlaps() -> None:
    """Overlap over union of every pair, 0 for disjoint or empty boxes."""
    # Given boxes, when compared, then the figures are right
    half = Box(x1=0.0, y1=0.0, x2=0.5, y2=1.0)
    whole = Box(x1=0.0, y1=0.0, x2=1.0, y2=1.0)
    empty = Box(x1=0.2, y1=0.2, x2=0.2, y2=0.2)
    iou = overlaps([CAR, half, empty], [CAR, PERSON, whole])
    assert iou.shape == (3, 3)
    assert iou[0, 0] == pytest.approx(1.0)
    assert iou[0, 1] == 0.0
    assert iou[1, 2] == pytest.approx(0.5)
    assert iou[2].tolist() == [0.0, 0.0, 0.0]
    assert overlaps([], [CAR]).shape == (0, 1)


def test_parked_boxes_for_the_scan() -> None:
    """The scan is told where the camera's objects stood (nothing when off)."""
    # Given a tracker that saw a car, and one that is off
    t = tracker()
    t.mark(clip(0), found(("car", CAR)))
    off = StationaryTracker(StationarySettings(enabled=False), ["drive"])
    off.mark(clip(0), found(("car", CAR)))

    # When the scan asks, then it hears of the car by group and box
    assert t.parked("drive") == (ParkedBox(group="vehicle", box=CAR),)
    assert t.parked("porch") == ()
    assert off.parked("drive") == ()


def test_flags_round_trip_and_older_documents_load() -> None:
    """Stored states keep the flags; documents written before them still load."""
    # Given a marked result in a clip state, and a document from before the flags
    t = tracker()
    t.mark(clip(0), found(("car", CAR)))
    marked = t.mark(clip(1), found(("car", CAR)))
    state = ClipState.for_clip(clip(1))
    state.filter_result = marked
    old = state.model_dump(mode="json")
    assert old["filter_result"].pop("stationary") is True
    for detection in [
        *old["filter_result"]["detections"],
        old["filter_result"]["best"],
    ]:
        del detection["stationary"]

    # When they go through the state store's JSON and the pending journal
    again = ClipState.model_validate_json(state.model_dump_json())
    journal = PendingWrites.model_validate_json(
        PendingWrites(states=[state]).model_dump_json()
    )
    older = ClipState.model_validate(old)

    # Then the flags survive, and the older document loads as not stationary
    for loaded in (again, journal.states[0]):
        assert loaded.filter_result is not None
        assert loaded.filter_result.stationary
        assert [d.stationary for d in loaded.filter_result.detections] == [True]
    assert older.filter_result is not None
    assert not older.filter_result.stationary
    assert older.filter_result.best is not None
    assert not older.filter_result.best.stationary
