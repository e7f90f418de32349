"""RTSP source against a real RTSP server: motion, pre-roll, bounds, reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import itertools
import logging
from pathlib import Path
import threading

import av
import numpy as np
import pytest

from custom_components.homesec.engine.faults import Fault
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.redact import redact_url
from custom_components.homesec.engine.sources.one_shot import record_stream
from custom_components.homesec.engine.sources.recorder import Recorder
from custom_components.homesec.engine.sources.rtsp import RtspSettings, RtspSource
from custom_components.homesec.engine.sources.stream import (
    copy_packet,
    split_credentials,
    with_credentials,
)
from custom_components.homesec.engine.spool import Spool

from .doubles.rtsp_server import RtspServer
from .pipeline_parts import run_blocking

SECRET = "s3cret-pw"
FPS = 15


async def _until(predicate: Callable[[], bool], timeout: float) -> None:
    for _ in range(int(timeout * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


def _box_x(frame: av.VideoFrame) -> int | None:
    """Left edge of the white box in a frame, or None."""
    gray = np.asarray(frame.to_ndarray(format="gray"))
    columns = np.flatnonzero((gray[150:210] > 200).any(axis=0))
    return int(columns[0]) if columns.size else None


def _frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def _positions(path: Path) -> list[int | None]:
    return [_box_x(frame) for frame in _frames(path)]


def _motion_span(loop: list[int | None]) -> range:
    """Indices of the loop's moving frames: after the first rest, before the last."""
    first = next(i for i, x in enumerate(loop) if x != loop[0])
    last = max(i for i, x in enumerate(loop) if x != loop[-1])
    return range(first, last + 1)


def _rest_motion_rest(
    positions: list[int | None], loop: list[int | None]
) -> tuple[int, int]:
    """Frames at rest before and after the loop's whole motion in ``positions``.

    Fails unless ``positions`` is the box at rest, then every frame of the
    loop's motion in order, then the box at rest where the motion ends.
    """
    before = next(i for i, x in enumerate(positions) if x != loop[0])
    motion = [loop[i] for i in _motion_span(loop)]
    after = len(positions) - before - len(motion)
    expected = [loop[0]] * before + motion + [loop[-1]] * after
    assert positions == expected, positions
    return before, after


def _replay(clip: Path, recorder: Recorder, active: Callable[[float], bool]) -> None:
    """Feed a file's packets to ``recorder``, stamped with their stream time."""
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        recorder.stream_opened(stream)
        origin: int | None = None
        for packet in container.demux(stream):
            if packet.dts is None:
                continue
            origin = packet.dts if origin is None else origin
            at = float((packet.dts - origin) * stream.time_base)
            copied = copy_packet(packet, at)
            if copied is not None:
                recorder.on_packet(copied, active(at))
        recorder.finish()


def _source(server: RtspServer, spool: Spool, **settings: float) -> RtspSource:
    url = server.url("camera_loop.mp4", credentials=f"cam:{SECRET}")
    return RtspSource(
        "porch",
        RtspSettings.model_validate({"url": url, "read_timeout_s": 2.0, **settings}),
        spool,
        run_blocking,
    )


async def test_motion_records_a_clip_from_before_to_after_the_motion(
    rtsp_server: RtspServer,
    camera_loop_clip: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Motion starts a recording that begins before it and ends after it."""
    # Given an RTSP camera whose box rests for 4 s, moves for 3 s, then rests
    # (the maximum clip length stays at its 60 s default: rotation is tested below)
    spool = Spool(tmp_path / "spool")
    clips: list[Clip] = []

    async def sink(clip: Clip) -> None:
        clips.append(clip)

    source = _source(rtsp_server, spool, pre_roll_s=2.0, stop_delay_s=1.5)
    caplog.set_level(logging.DEBUG)

    # When the source watches the stream
    await source.start(sink)
    try:
        await _until(lambda: bool(clips), timeout=30)
    finally:
        await source.stop()

    # Then one finalized clip is in the spool, in the camera's folder
    clip = clips[0]
    assert clip.source_type == "rtsp"
    assert clip.local_path.parent == spool.camera_dir("porch")
    assert not clip.local_path.name.startswith(".")
    frames = _frames(clip.local_path)
    loop_frames = _frames(camera_loop_clip)
    loop = [_box_x(frame) for frame in loop_frames]
    # And it is the box at rest, the whole motion frame by frame, then at rest
    before, after = _rest_motion_rest([_box_x(frame) for frame in frames], loop)
    # And it starts on a keyframe, a whole GOP or more before the GOP in which
    # the motion starts (pre-roll)
    motion_start = _motion_span(loop).start
    motion_gop = max(
        i for i, frame in enumerate(loop_frames[: motion_start + 1]) if frame.key_frame
    )
    assert frames[0].key_frame
    assert before > motion_start - motion_gop
    # And it goes on after the frame that showed the motion end (stop delay)
    assert after >= 2
    # And the password never reaches a log line
    assert SECRET not in caplog.text


async def test_source_reconnects_after_the_server_went_away(
    rtsp_server: RtspServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A dropped stream makes the source unhealthy; it reconnects and records again."""
    # Given a source that recorded once
    spool = Spool(tmp_path / "spool")
    clips: list[Clip] = []

    async def sink(clip: Clip) -> None:
        clips.append(clip)

    source = _source(rtsp_server, spool, pre_roll_s=1.0, stop_delay_s=1.0)
    await source.start(sink)
    try:
        await _until(lambda: bool(clips), timeout=30)
        assert source.healthy

        # When the server stops
        rtsp_server.stop()
        await _until(lambda: not source.healthy, timeout=15)
        problem = source.problem
        assert problem is not None
        assert SECRET not in problem
        await _until(lambda: source.fault is Fault.CONNECTION_REFUSED, timeout=15)

        # And comes back on the same port
        rtsp_server.start()
        recorded = len(clips)
        await _until(lambda: source.healthy and len(clips) > recorded, timeout=40)
    finally:
        await source.stop()

    # Then the source recorded again, logged the outage once, and no password
    assert source.last_frame_at is not None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert 1 <= len(errors) <= 2  # connection lost, then refused: distinct reasons
    assert SECRET not in caplog.text
    assert all(clip.local_path.is_file() for clip in clips)


def test_credentials_are_kept_out_of_urls_shown_to_people() -> None:
    """Credentials typed into a URL are split out, encoded back, and redacted."""
    # Given a URL with credentials holding reserved characters
    url = with_credentials("rtsp://10.0.0.5:554/main", "admin", "p@ss:w/rd")

    # When it is split and redacted
    plain, user, password = split_credentials(url)

    # Then the parts come back and the redacted form hides them
    assert (plain, user, password) == ("rtsp://10.0.0.5:554/main", "admin", "p@ss:w/rd")
    assert redact_url(url) == "rtsp://**REDACTED**@10.0.0.5:554/main"
    assert "p%40ss" in url


async def test_an_on_demand_recording_stops_at_its_maximum_leaving_one_file(
    rtsp_server: RtspServer, tmp_path: Path
) -> None:
    """A recording still wanted at max_seconds ends there, as exactly one file."""
    # Given a stream that is wanted for longer than the maximum, and a clock on
    # stream time: it moves one frame period each time a frame is asked about
    folder = tmp_path / "spool" / "drive"
    asked = 0

    def active(_: float) -> bool:
        nonlocal asked
        asked += 1
        return True

    # When it is recorded on demand with a 2 s maximum
    result = await run_blocking(
        lambda: record_stream(
            rtsp_server.url("camera_loop.mp4"),
            folder,
            active=active,
            max_seconds=2.0,
            clock=lambda: asked / FPS,
            stop=threading.Event(),
        )
    )

    # Then it went on for exactly 2 s of frames and stopped, although still wanted
    assert asked == 2 * FPS
    # And one clip of those frames (from the first keyframe) comes back, alone
    assert result is not None
    path, _ = result
    assert sorted(folder.iterdir()) == [path]
    frames = _frames(path)
    assert frames[0].key_frame
    assert 0 < len(frames) <= asked


async def test_a_long_recording_rotates_without_losing_a_frame(
    rtsp_server: RtspServer, camera_loop_clip: Path, tmp_path: Path
) -> None:
    """Motion outlasting max_recording_s is cut into clips at a keyframe."""
    # Given pre-roll + motion + stop delay (about 7 s) longer than a 5 s maximum
    spool = Spool(tmp_path / "spool")
    clips: list[Clip] = []

    async def sink(clip: Clip) -> None:
        clips.append(clip)

    source = _source(
        rtsp_server, spool, pre_roll_s=2.0, stop_delay_s=2.0, max_recording_s=5.0
    )

    # When the box moves
    await source.start(sink)
    try:
        await _until(lambda: len(clips) >= 2, timeout=30)
    finally:
        await source.stop()

    # Then together the first two clips hold rest, the whole motion and rest
    first, second = _frames(clips[0].local_path), _frames(clips[1].local_path)
    loop_frames = _frames(camera_loop_clip)
    loop = [_box_x(frame) for frame in loop_frames]
    before, _ = _rest_motion_rest([_box_x(f) for f in first + second], loop)
    # And the first was cut just before a keyframe of the stream (found in the
    # loop through the motion it holds), where the second one starts
    cut = _motion_span(loop).start - before + len(first)
    assert first[0].key_frame
    assert loop_frames[cut % len(loop_frames)].key_frame
    assert second[0].key_frame
    assert clips[1].start_ts > clips[0].start_ts


def test_the_recorder_cuts_at_the_first_keyframe_past_its_maximum(
    camera_loop_clip: Path, tmp_path: Path
) -> None:
    """Clips end at the first keyframe max_seconds of stream after their start."""
    # Given a recorder with a 4.5 s maximum, fed a recording wanted all along,
    # each packet stamped with its stream time
    finished: list[Path] = []
    recorder = Recorder(
        tmp_path,
        pre_roll=0.0,
        max_seconds=4.5,
        on_finished=lambda path, *_: finished.append(path),
    )

    # When the 10 s loop goes through it
    _replay(camera_loop_clip, recorder, lambda _: True)

    # Then the clips hold every frame of the loop once, in order
    loop_frames = _frames(camera_loop_clip)
    clips = [_positions(path) for path in finished]
    assert [x for clip in clips for x in clip] == [_box_x(f) for f in loop_frames]
    # And each clip but the last ends where the first keyframe 4.5 s (of stream)
    # or more after its start begins the next one (frames 0, 75, 149 here)
    keyframes = [i for i, frame in enumerate(loop_frames) if frame.key_frame]
    cuts = [0]
    while later := [k for k in keyframes if k - cuts[-1] >= 4.5 * FPS]:
        cuts.append(later[0])
    assert list(itertools.accumulate(map(len, clips[:-1]), initial=0)) == cuts


def test_the_recorder_starts_with_whole_gops_of_pre_roll(
    camera_loop_clip: Path, tmp_path: Path
) -> None:
    """A clip starts at the last keyframe at least pre_roll before its trigger."""
    # Given a recorder with 2 s of pre-roll, fed packets stamped with stream time
    finished: list[Path] = []
    recorder = Recorder(
        tmp_path,
        pre_roll=2.0,
        max_seconds=60.0,
        on_finished=lambda path, *_: finished.append(path),
    )
    loop_frames = _frames(camera_loop_clip)
    loop = [_box_x(frame) for frame in loop_frames]
    motion = _motion_span(loop)

    # When the recording is wanted exactly while the box moves
    _replay(
        camera_loop_clip,
        recorder,
        lambda at: motion.start <= round(at * FPS) < motion.stop,
    )

    # Then one clip holds the pre-roll from the last keyframe 2 s or more before
    # the motion, and the motion up to its last moving frame
    keyframes = [i for i, frame in enumerate(loop_frames) if frame.key_frame]
    first = max(k for k in keyframes if k <= motion.start - 2 * FPS)
    assert len(finished) == 1
    assert _positions(finished[0]) == loop[first : motion.stop]
