"""Memory does not grow with clip length: frame selection for analysis and the
remote detector hold a bounded number of decoded frames, the remote detector
stops sending at the rule's hits, and cancelling it stops requests and decoding."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
import threading
from typing import Any
import weakref

from aiohttp import ClientSession
import pytest

from custom_components.homesec.engine.analyze.frame_selection import (
    FrameSelection,
    select_jpegs,
)
from custom_components.homesec.engine.detect import frames, remote
from custom_components.homesec.engine.detect.onnx import OnnxModel
from custom_components.homesec.engine.detect.remote import (
    RemoteDetector,
    RemoteSettings,
)
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.detect.scan import scan
from custom_components.homesec.engine.models import (
    Box,
    Clip,
    Detection,
    FilterResult,
)

from .clips import make_clip
from .doubles.detection_server import DetectionServer
from .pipeline_parts import run_blocking

PERSON = FilterResult(
    detected_classes=["person"],
    confidence=0.9,
    frames_sampled=5,
    best=Detection(
        label="person",
        confidence=0.9,
        box=Box(x1=0.2, y1=0.3, x2=0.35, y2=0.7),
        frame_ts=2.0,
    ),
    model="test",
)


HELD_WITH_GROUPS = 2 + 2 * frames.DECODE_THREADS
"""Frames alive at once in a keyframes-first scan: two with the model (one
inferred, one waiting) and two per group decoder (one queued, one in hand)."""


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 s at 640x360, a white box moving (no person): 120 frames at 2 fps."""
    folder = tmp_path_factory.mktemp("long")
    return make_clip(folder / "long.mp4", motion=True, duration=60)


class LiveFrames:
    """Counts decoded frame images alive at once (a hook on the converter)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap the frame converter."""
        self.live = 0
        self.peak = 0
        self.made = 0
        self._lock = threading.Lock()
        convert = frames._convert

        def counting(*args: Any) -> Any:
            image = convert(*args)
            with self._lock:
                self.made += 1
                self.live += 1
                self.peak = max(self.peak, self.live)
            weakref.finalize(image, self._gone)
            return image

        monkeypatch.setattr(frames, "_convert", counting)

    def _gone(self) -> None:
        with self._lock:
            self.live -= 1


class DecodedFrames:
    """Counts the frames the remote detector decoded and sees its decoder close."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap the frame sampler the remote detector reads through."""
        self.decoded = 0
        self.started = threading.Event()
        self.go_on = threading.Event()
        """Until set, the decoder waits before its first frame."""
        self.go_on.set()
        self.closed = threading.Event()
        sample = remote.keyframes_then_sampled

        def counting(*args: Any, **kwargs: Any) -> Generator[Any]:
            self.started.set()
            self.go_on.wait(60)
            try:
                with closing(sample(*args, **kwargs)) as sampled:
                    for frame in sampled:
                        self.decoded += 1
                        yield frame
            finally:
                self.closed.set()

        monkeypatch.setattr(remote, "keyframes_then_sampled", counting)


def _clip(path: Path) -> Clip:
    return Clip(
        clip_id=path.stem,
        camera_name="porch",
        local_path=path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )


async def _until(condition: Callable[[], object]) -> None:
    async with asyncio.timeout(60):  # a bound for failure, not a measurement
        while not condition():
            await asyncio.sleep(0.01)


def test_frame_selection_holds_few_frames_whatever_the_length(
    monkeypatch: pytest.MonkeyPatch, red_clip: Path, long_clip: Path
) -> None:
    """Only the chosen frames are decoded to pictures, one at a time."""
    # Given the frame converter counted, and a 6 s and a 60 s clip
    settings = FrameSelection()
    peaks = {}
    made = {}
    for name, clip in (("short", red_clip), ("long", long_clip)):
        hook = LiveFrames(monkeypatch)

        # When frames are selected for the model
        jpegs = select_jpegs(clip, PERSON, settings)

        # Then four frames come back, two of them next to the detection
        assert len(jpegs) == settings.max_frames
        assert sum(abs(ts - 2.0) <= 0.6 for ts, _ in jpegs) >= 2
        peaks[name], made[name] = hook.peak, hook.made

    # Then as few frames were held at once for the long clip as for the short
    # one, and only the chosen frames were converted
    assert peaks["long"] <= peaks["short"] <= 2
    assert made == {"short": settings.max_frames, "long": settings.max_frames}


def test_seeking_picks_the_same_frames_as_decoding_through(
    monkeypatch: pytest.MonkeyPatch, long_clip: Path
) -> None:
    """Frame selection seeks over long gaps in MP4; the pictures are the same."""
    # Given a detection at 40 s of the 60 s clip
    detected_at_40s = PERSON.model_copy(
        update={"best": PERSON.best.model_copy(update={"frame_ts": 40.0})}  # type: ignore[union-attr]
    )
    settings = FrameSelection(max_frames=6)

    # When frames are selected seeking, and again decoding straight through
    seeking = select_jpegs(long_clip, detected_at_40s, settings)
    monkeypatch.setattr(frames, "SEEKABLE", frozenset())
    through = select_jpegs(long_clip, detected_at_40s, settings)

    # Then both give the same pictures at the same times: three next to 40 s,
    # the first, one between and the last
    assert seeking == through
    times = [ts for ts, _ in seeking]
    assert times[0] == 0.0
    assert times[-1] > 59
    assert sum(abs(ts - 40.0) <= 0.6 for ts in times) == 3


@pytest.mark.parametrize("keyframes_first", [True, False])
def test_a_scan_holds_few_frames_whatever_the_length(
    monkeypatch: pytest.MonkeyPatch,
    red_model: Path,
    red_clip: Path,
    long_clip: Path,
    keyframes_first: bool,
) -> None:
    """A scan holds a bounded number of frames, however long the clip."""
    # Given the model on its own worker, needing more hits than either clip has
    model = OnnxModel(red_model, threads=1)
    peaks = {}
    with ThreadPoolExecutor(1) as executor:
        for name, clip in (("short", red_clip), ("long", long_clip)):
            hook = LiveFrames(monkeypatch)

            # When each clip is scanned
            result = scan(
                clip,
                infer=partial(model.infer, min_confidence=0.25, iou=0.45),
                rules=DetectionRules(min_hits=100),
                sample_fps=2.0,
                side=model.imgsz,
                model="red",
                infer_executor=executor,
                keyframes_first=keyframes_first,
            )
            peaks[name] = hook.peak

    # Then every sampled frame of the long clip was inferred, and neither clip
    # held more frames at once than the scan's bound, whatever its length
    assert result.frames_sampled == 120
    assert max(peaks.values()) <= (HELD_WITH_GROUPS if keyframes_first else 3)


async def test_remote_detector_holds_few_frames_whatever_the_length(
    monkeypatch: pytest.MonkeyPatch,
    detection_server: DetectionServer,
    red_clip: Path,
    long_clip: Path,
) -> None:
    """Frames are decoded a few ahead of the request, never the whole clip."""
    # Given the remote detector, needing more hits than either clip has
    rules = DetectionRules(min_hits=100)
    peaks = {}
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url, rules=rules), session, run_blocking
        )
        for name, clip in (("short", red_clip), ("long", long_clip)):
            hook = LiveFrames(monkeypatch)
            detection_server.requests.clear()

            # When each clip is scanned
            result = await detector.detect(_clip(clip))

            # Then every sampled frame was sent
            assert len(detection_server.requests) == result.frames_sampled
            peaks[name] = hook.peak

    # Then neither clip (the long one has 120 frames) held more frames at once
    # than the scan's bound, whatever its length
    assert result.frames_sampled == 120
    assert max(peaks.values()) <= HELD_WITH_GROUPS


async def test_remote_detector_stops_at_the_rules_hits(
    monkeypatch: pytest.MonkeyPatch, detection_server: DetectionServer, red_clip: Path
) -> None:
    """Once min_hits frames matched, nothing more is sent nor decoded."""
    # Given a clip whose person appears at 2 s (frames at 2.0, 2.5 and 3.0 match)
    hook = DecodedFrames(monkeypatch)
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url, rules=DetectionRules(min_hits=3)),
            session,
            run_blocking,
        )

        # When it is scanned needing three hits
        result = await detector.detect(_clip(red_clip))

    # Then seven frames were sent (0 to 3 s), at most one more was decoded, not
    # the twelve of the whole clip, and the decoder was closed
    assert result.detected_classes == ["person"]
    assert len(detection_server.requests) == 7
    assert hook.decoded <= 8
    assert hook.closed.is_set()


@pytest.mark.parametrize("at", ["decoding", "request"])
async def test_cancelling_the_remote_detector_stops_it(
    monkeypatch: pytest.MonkeyPatch,
    detection_server: DetectionServer,
    long_clip: Path,
    at: str,
) -> None:
    """Cancelled while decoding or waiting for the server: no request follows,
    and the decoder stops within a frame or two of the 120."""
    # Given a server that holds every request, and the long clip being scanned
    hook = DecodedFrames(monkeypatch)
    if at == "decoding":
        hook.go_on.clear()
    detection_server.mode = "hold"
    async with ClientSession() as session:
        detector = RemoteDetector(
            RemoteSettings(url=detection_server.url), session, run_blocking
        )
        task = asyncio.ensure_future(detector.detect(_clip(long_clip)))
        if at == "request":
            await _until(lambda: detection_server.requests)
        else:
            await _until(hook.started.is_set)
        sent = len(detection_server.requests)

        # When the detection is cancelled
        task.cancel()
        hook.go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await task

        # Then the decoder closes after at most two more frames
        await _until(hook.closed.is_set)
        assert hook.decoded <= sent + 2
        # Then no request arrives after the cancellation
        detection_server.released.set()
        await asyncio.sleep(0.1)
        assert len(detection_server.requests) == sent == (at == "request")
