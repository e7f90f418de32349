"""Engine parts on their own: policy, motion detector, spool and folder source."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from custom_components.homesec.engine.clip_names import clip_start
from custom_components.homesec.engine.detect.motion import MotionSettings, scan_motion
from custom_components.homesec.engine.errors import VideoDecodeError
from custom_components.homesec.engine.models import (
    AnalysisResult,
    Clip,
    FilterResult,
    RiskLevel,
)
from custom_components.homesec.engine.policy import (
    DefaultAlertPolicy,
    PolicyOverrides,
    PolicySettings,
)
from custom_components.homesec.engine.sources.folder import (
    FolderSettings,
    FolderSource,
    is_candidate,
)
from custom_components.homesec.engine.spool import Spool

MOTION = FilterResult(
    detected_classes=["motion"], confidence=1, frames_sampled=2, model="m"
)
NOTHING = FilterResult(detected_classes=[], confidence=0, frames_sampled=8, model="m")


def _analysis(risk: RiskLevel, activity: str = "passerby") -> AnalysisResult:
    return AnalysisResult(risk_level=risk, activity_type=activity, summary="s")


def test_policy_rules_and_reasons() -> None:
    """Risk, activity and motion rules decide, each with a readable reason."""
    # Given hub defaults (high risk, deliveries) and a camera that notifies on motion
    policy = DefaultAlertPolicy(
        PolicySettings(
            min_risk_level=RiskLevel.HIGH,
            notify_on_activity_types=frozenset({"delivery"}),
        ),
        {"porch": PolicyOverrides(notify_on_motion=True)},
    )

    # When clips are decided
    high = policy.decide("door", MOTION, _analysis(RiskLevel.CRITICAL))
    low = policy.decide("door", MOTION, _analysis(RiskLevel.LOW))
    delivery = policy.decide("door", MOTION, _analysis(RiskLevel.LOW, "delivery"))
    no_analysis = policy.decide("door", MOTION, None)
    porch = policy.decide("porch", MOTION, None)
    porch_still = policy.decide("porch", NOTHING, None)

    # Then each follows its rule with a reason saying why
    assert (high.notify, high.reason) == (
        True,
        "risk level critical is at or above high",
    )
    assert not low.notify
    assert "below high" in low.reason
    assert delivery.notify
    assert "delivery" in delivery.reason
    assert not no_analysis.notify
    assert no_analysis.reason == "no analysis and notify on motion is off"
    assert porch.notify
    assert "motion was seen" in porch.reason
    assert not porch_still.notify


def test_overrides_replace_only_the_fields_they_set() -> None:
    """A camera override keeps every hub field it does not set."""
    # Given hub defaults and an override of one field
    base = PolicySettings(
        min_risk_level=RiskLevel.MEDIUM,
        notify_on_activity_types=frozenset({"delivery"}),
        notify_on_motion=False,
    )

    # When the override is applied
    merged = PolicyOverrides(notify_on_motion=True).apply(base)

    # Then only that field changed
    assert merged == base.model_copy(update={"notify_on_motion": True})


def test_motion_found_in_moving_clip_not_in_still_one(
    motion_clip: Path, still_clip: Path
) -> None:
    """Frame differencing finds the moving box and nothing in a still scene."""
    # Given real H.264 clips with and without motion
    settings = MotionSettings()

    # When both are scanned
    moving = scan_motion(motion_clip, settings)
    still = scan_motion(still_clip, settings)

    # Then motion is found early (min_hits=1 stops after two frames) with a box
    assert moving.detected_classes == ["motion"]
    assert moving.frames_sampled == 2
    assert moving.best is not None
    assert 0.35 < moving.best.box.y1 < 0.45
    assert still.detected_classes == []
    assert still.frames_sampled == 8  # 4 s at 2 fps


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"this is not a video at all" * 100, "not a readable video"),
    ],
)
def test_motion_rejects_unreadable_files(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """Empty and non-video files give a clear decode error."""
    # Given a bad file
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)

    # When it is scanned, then a VideoDecodeError says what is wrong
    with pytest.raises(VideoDecodeError, match=message):
        scan_motion(path, MotionSettings())


def test_motion_rejects_truncated_clip(tmp_path: Path, motion_clip: Path) -> None:
    """The first half of an MP4 (no index yet) is not a readable video."""
    # Given a clip cut in half, as a camera still writing it would leave it
    path = tmp_path / "half.mp4"
    data = motion_clip.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    # When it is scanned, then a VideoDecodeError is raised
    with pytest.raises(VideoDecodeError):
        scan_motion(path, MotionSettings())


def test_candidate_names() -> None:
    """Only finished video files are candidates."""
    # Given names cameras and copy tools leave behind
    names = {
        "clip.mp4": True,
        "CLIP.MKV": True,
        "clip.mp4.part": False,
        "clip.mp4.tmp": False,
        ".clip.mp4": False,
        "~clip.mp4": False,
        "notes.txt": False,
        "snapshot.jpg": False,
    }

    # When each is checked, then only finished videos pass
    assert {name: is_candidate(name) for name in names} == names


def test_spool_names_collisions_deterministically(tmp_path: Path) -> None:
    """Clips of the same second get _2, _3 suffixes; the source file moves."""
    # Given three files adopted for the same camera and second
    spool = Spool(tmp_path / "spool")
    ts = datetime(2026, 11, 24, 10, 0, 5, 900_000, tzinfo=UTC)
    clips = []
    for index in range(3):
        src = tmp_path / f"in{index}.mp4"
        src.write_bytes(b"x" * (index + 1))
        # When each is adopted
        clips.append(spool.adopt(src, "porch", "folder", ts))

    # Then ids carry the camera and second, with a suffix on collisions
    assert [c.clip_id for c in clips] == [
        "porch_20261124_100005",
        "porch_20261124_100005_2",
        "porch_20261124_100005_3",
    ]
    assert [c.local_path.read_bytes() for c in clips] == [b"x", b"xx", b"xxx"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("in")]


def test_clip_start_reads_the_time_in_a_clip_id() -> None:
    """Spool clip ids carry their UTC start; other names carry none."""
    # Given clip ids as the spool names them, and names it does not make
    # When their start is read, then only the spool's names give one
    assert clip_start("front_door_20261124_101500") == datetime(
        2026, 11, 24, 10, 15, tzinfo=UTC
    )
    assert clip_start("back_yard_20261124_235959_2") == datetime(
        2026, 11, 24, 23, 59, 59, tzinfo=UTC
    )
    assert clip_start("holiday_video") is None
    assert clip_start("cam_20261399_101500") is None


async def test_folder_source_waits_for_settle_time(tmp_path: Path) -> None:
    """A file is handed over only after it held still for the settle time."""
    # Given a folder source with a controllable clock
    now = [100.0]
    watch = tmp_path / "watch"
    watch.mkdir()
    received: list[Clip] = []

    async def sink(clip: Clip) -> None:
        received.append(clip)

    async def run[T](target: Callable[..., T], *args: object) -> T:
        return await asyncio.to_thread(target, *args)

    source = FolderSource(
        "porch",
        FolderSettings(watch_dir=watch, settle_seconds=5),
        Spool(tmp_path / "spool"),
        run,
        clock=lambda: now[0],
    )
    clip = watch / "a.mp4"
    (watch / "a.mp4.part").write_bytes(b"partial")
    (watch / "empty.mp4").write_bytes(b"")

    # When the file grows between polls, then stays still
    clip.write_bytes(b"1")
    assert await source.poll_once(sink) == 0
    now[0] += 4
    clip.write_bytes(b"12")
    assert await source.poll_once(sink) == 0
    now[0] += 4.9
    assert await source.poll_once(sink) == 0
    now[0] += 0.2
    taken = await source.poll_once(sink)
    now[0] += 60
    await source.poll_once(sink)

    # Then it was taken once, 5 s after its last change; partial and empty stay
    assert taken == 1
    assert [c.local_path.read_bytes() for c in received] == [b"12"]
    assert sorted(p.name for p in watch.iterdir()) == ["a.mp4.part", "empty.mp4"]
    await asyncio.sleep(0)


async def test_folder_source_reports_unreadable_folder(tmp_path: Path) -> None:
    """A missing folder makes the source unhealthy until it is back."""
    # Given a source watching a folder that does not exist yet
    watch = tmp_path / "later"

    async def run[T](target: Callable[..., T], *args: object) -> T:
        return await asyncio.to_thread(target, *args)

    async def sink(clip: Clip) -> None:
        raise AssertionError(clip)

    source = FolderSource(
        "porch", FolderSettings(watch_dir=watch), Spool(tmp_path / "spool"), run
    )

    # When it polls, then it is unhealthy
    assert await source.poll_once(sink) == 0
    assert not source.healthy

    # When the folder appears, then it is healthy again
    watch.mkdir()
    await source.poll_once(sink)
    assert source.healthy


def test_log_lines_count_in_the_right_number() -> None:
    """Counts read "1 clip" and "2 clips"; sizes in bytes, kB, MB or GB."""
    # Given the text helpers every log line with a number uses
    from custom_components.homesec.engine.text import count, size  # noqa: PLC0415

    # When numbers are written, then singular, plural and units are right
    assert [count(n, "clip") for n in (0, 1, 2)] == ["0 clips", "1 clip", "2 clips"]
    assert count(3, "history write") == "3 history writes"
    assert count(1, "leftover") == "1 leftover"
    assert [size(n) for n in (1, 999, 1500, 2_500_000, 3_400_000_000)] == [
        "1 byte", "999 bytes", "1.5 kB", "2.5 MB", "3.4 GB"
    ]  # fmt: skip
