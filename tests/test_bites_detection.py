"""Detection tests that count the frames PyAV really decoded: the scan stops
decoding after enough hits, and a cancelled scan stops decoding promptly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
import threading
from typing import Any

import av
import pytest

from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings
from custom_components.homesec.engine.detect.rules import DetectionRules

from .clips import clip_of, make_red_box_clip

CLIP_FPS = 15
"""Frame rate of the clips tests/clips.py makes."""

SAMPLE_FPS = OnnxSettings.model_fields["sample_fps"].default
FRAMES_PER_SAMPLE = int(CLIP_FPS / SAMPLE_FPS + 0.999)
"""Decoded frames between two sampled frames (8 at 15 fps sampled at 2 fps)."""


class _CountingPacket:
    """A demuxed packet whose ``decode`` reports its frames to a spy."""

    def __init__(self, inner: Any, spy: DecodeSpy) -> None:
        self._inner = inner
        self._spy = spy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def decode(self) -> list[Any]:
        frames = self._inner.decode()
        for frame in frames:
            self._spy.decoded(frame)
        return frames


class _CountingContainer:
    """An opened PyAV container whose ``decode`` and packets' ``decode`` report
    every frame to a spy."""

    def __init__(self, inner: Any, spy: DecodeSpy) -> None:
        self._inner = inner
        self._spy = spy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _CountingContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def decode(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for frame in self._inner.decode(*args, **kwargs):
            self._spy.decoded(frame)
            yield frame

    def demux(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for packet in self._inner.demux(*args, **kwargs):
            yield _CountingPacket(packet, self._spy)


class DecodeSpy:
    """Counts the video frames PyAV decodes (every ``av.open``, any thread).

    With ``pause_at`` the decoding thread stops after that many frames until
    ``resume`` is set, and ``on_pause`` is called from that thread.
    """

    def __init__(
        self,
        pause_at: int | None = None,
        on_pause: Callable[[], object] = lambda: None,
    ) -> None:
        """Count from zero."""
        self.frames = 0
        self.last_ts = -1.0
        self.last_non_key_ts = -1.0
        self.pause_at = pause_at
        self.on_pause = on_pause
        self.resume = threading.Event()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap ``av.open`` so the containers it opens are counted."""
        original = av.open

        def counting_open(*args: Any, **kwargs: Any) -> Any:
            return _CountingContainer(original(*args, **kwargs), self)

        monkeypatch.setattr(av, "open", counting_open)

    def decoded(self, frame: Any) -> None:
        """Account for one decoded frame (called in the decoding thread)."""
        self.frames += 1
        if frame.time is not None:
            self.last_ts = max(self.last_ts, float(frame.time))
            if not frame.key_frame:
                self.last_non_key_ts = max(self.last_non_key_ts, float(frame.time))
        if self.frames == self.pause_at:
            self.on_pause()
            self.resume.wait()


async def test_onnx_stops_decoding_after_enough_hits(
    red_model: Path, red_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once min_hits frames matched, the decoder is not asked for more frames."""
    # Given a spy on PyAV's decoding and the 6 s red-box clip (90 frames,
    # keyframes at 0, 2 and 4 s), whose box appears at 2 s, scanned by the
    # red-person model needing three hits
    spy = DecodeSpy()
    spy.install(monkeypatch)
    detector = OnnxDetector(
        OnnxSettings(model_path=red_model, rules=DetectionRules(min_hits=3))
    )

    # When the clip is scanned
    try:
        result = await detector.detect(clip_of(red_clip))
    finally:
        await detector.close()

    # Then the person was found: at the keyframes at 2 and 4 s, then between
    # keyframes at 2.5 s
    assert result.detected_classes == ["person"]
    assert result.frames_sampled == 3 + 4  # 0.5, 1.0 and 1.5 s were empty
    # Then decoding between keyframes stopped there: the third hit's group at
    # most one sampling step (3.0 s, while its inference ran) past it, and the
    # next group, whose decoder works a group ahead, no further than its last
    # sampled frame (5.53 s); no group after it
    group = 23 + 1  # a group's frames up to its last sampled one (1.53 s in)
    third = 15 + 1  # the third hit's group, 2.0 to 3.0 s
    assert 0 < spy.last_non_key_ts <= 4 + 1.54
    assert spy.frames <= 3 + group + third + group


async def test_cancelling_a_scan_stops_its_decoding(
    red_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancelled detect() makes its decoders stop at their next samples."""
    # Given a scan of a 20 s clip without red (300 frames, keyframes every 2 s,
    # all would be decoded) whose decoding is held at the 3rd frame after the
    # keyframes, in the pass between them
    clip = make_red_box_clip(tmp_path / "empty.mp4", appears_at=999, duration=20)
    loop = asyncio.get_running_loop()
    held = asyncio.Event()
    spy = DecodeSpy(
        pause_at=10 + 3, on_pause=lambda: loop.call_soon_threadsafe(held.set)
    )
    spy.install(monkeypatch)
    detector = OnnxDetector(OnnxSettings(model_path=red_model))
    task = asyncio.ensure_future(detector.detect(clip_of(clip)))
    try:
        await held.wait()

        # When the clip's task is cancelled there, and the decoder then released
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        decoded_when_cancelled = spy.frames
    finally:
        spy.resume.set()
        # (close waits for the scan worker to finish)
        await detector.close()

    # Then each of the two decoders went at most two sampled frames further
    # (one waiting in its queue, one in hand), not through the clip
    assert decoded_when_cancelled >= 10 + 3
    assert spy.frames - decoded_when_cancelled <= 2 * 2 * FRAMES_PER_SAMPLE
