"""RTSP source against a real RTSP server: motion, pre-roll, bounds, reconnection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from pathlib import Path
import threading
import time

import av
import numpy as np
import pytest

from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.sources.one_shot import record_stream
from custom_components.homesec.engine.sources.rtsp import RtspSettings, RtspSource
from custom_components.homesec.engine.sources.stream import (
    redact_url,
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


def _source(server: RtspServer, spool: Spool, **settings: float) -> RtspSource:
    url = server.url("camera_loop.mp4", credentials=f"cam:{SECRET}")
    return RtspSource(
        "porch",
        RtspSettings.model_validate({"url": url, "read_timeout_s": 2.0, **settings}),
        spool,
        run_blocking,
    )


async def test_motion_records_a_clip_with_pre_roll_within_bounds(
    rtsp_server: RtspServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Motion starts a recording that begins before it and ends after it."""
    # Given an RTSP camera whose box rests for 4 s, then moves for 3 s
    spool = Spool(tmp_path / "spool")
    clips: list[Clip] = []

    async def sink(clip: Clip) -> None:
        clips.append(clip)

    source = _source(
        rtsp_server, spool, pre_roll_s=2.0, stop_delay_s=1.5, max_recording_s=8.0
    )
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
    seconds = len(frames) / FPS
    # And it lasts pre-roll + motion + stop delay, within the configured maximum
    assert 4.5 <= seconds <= 8.0 + 1.0, seconds
    # And it starts before the motion (pre-roll: the box still at rest) and holds it
    positions = [_box_x(frame) for frame in frames]
    assert positions[0] == 0
    assert positions[:FPS].count(0) == FPS  # at least 1 s of rest first
    assert max(p or 0 for p in positions) >= 300
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
    assert redact_url(url) == "rtsp://***@10.0.0.5:554/main"
    assert "p%40ss" in url


async def test_an_on_demand_recording_stops_at_its_maximum_leaving_one_file(
    rtsp_server: RtspServer, tmp_path: Path
) -> None:
    """A recording still wanted at max_seconds ends there, as exactly one file."""
    # Given a stream that is wanted for longer than the maximum
    folder = tmp_path / "spool" / "drive"

    # When it is recorded on demand with a 2 s maximum
    result = await run_blocking(
        lambda: record_stream(
            rtsp_server.url("camera_loop.mp4"),
            folder,
            active=lambda _: True,
            max_seconds=2.0,
            clock=time.time,
            stop=threading.Event(),
        )
    )

    # Then one clip of about 2 s comes back and nothing else is left behind
    assert result is not None
    path, _ = result
    assert sorted(folder.iterdir()) == [path]
    assert 1.0 <= len(_frames(path)) / FPS <= 3.0


async def test_a_long_recording_rotates_at_its_maximum(
    rtsp_server: RtspServer, tmp_path: Path
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

    # Then the first clip ends at the maximum (cut at the next keyframe, 1 s GOP)
    first = len(_frames(clips[0].local_path)) / FPS
    assert 5.0 <= first <= 6.0, first
    # And the next one carries on from there
    assert clips[1].start_ts > clips[0].start_ts
    assert _frames(clips[1].local_path)
