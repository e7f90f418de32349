"""Keyframes first: a scan infers the sampled keyframes before the frames in
between, decodes those only when the keyframes did not satisfy the rules, and
never infers a frame twice (frames are told apart by their pts)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
import math
from pathlib import Path
import subprocess
import threading
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.homesec.engine.detect import (
    frames,
    keyframes,
    scan as scan_module,
)
from custom_components.homesec.engine.detect.onnx import OnnxModel
from custom_components.homesec.engine.detect.rules import DetectionRules, RawDetection
from custom_components.homesec.engine.detect.scan import ScanCancelledError, scan
from custom_components.homesec.engine.models import FilterResult

from .clips import make_red_box_clip


class Recorder:
    """The red-person model, recording each inference by its frame's pts, and
    whether the in-between pass (the sampled frames' decoder) was started."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, model: Path) -> None:
        """Hook the frame converter and the in-between pass."""
        self.model = OnnxModel(model, threads=1)
        self.inferred: list[int] = []
        self.keyframe: dict[int, bool] = {}
        self.in_between_frames = 0
        self.in_between_started = threading.Event()
        self.in_between_closed = threading.Event()
        self._pts: dict[int, int] = {}
        self._lock = threading.Lock()
        convert = frames._convert
        sample = scan_module.sample_between

        def converting(frame: av.VideoFrame, *args: Any) -> NDArray[np.uint8]:
            image = convert(frame, *args)
            with self._lock:
                self._pts[id(image)] = frame.pts
                self.keyframe[frame.pts] = frame.key_frame
            return image

        def in_between(*args: Any, **kwargs: Any) -> Generator[frames.SampledFrame]:
            self.in_between_started.set()
            try:
                with closing(sample(*args, **kwargs)) as sampled:
                    for frame in sampled:
                        self.in_between_frames += 1
                        yield frame
            finally:
                self.in_between_closed.set()

        monkeypatch.setattr(frames, "_convert", converting)
        monkeypatch.setattr(keyframes, "_convert", converting)
        monkeypatch.setattr(scan_module, "sample_between", in_between)

    def reset(self) -> None:
        """Forget the inferences and the in-between pass so far."""
        self.inferred.clear()
        self.in_between_frames = 0
        self.in_between_started.clear()
        self.in_between_closed.clear()

    def infer(self, image: NDArray[np.uint8]) -> list[RawDetection]:
        """Run the model on ``image``, noting its frame's pts."""
        with self._lock:
            self.inferred.append(self._pts.pop(id(image)))
        return self.model.infer(image, min_confidence=0.25, iou=0.45)

    def scan(
        self,
        clip: Path,
        *,
        keyframes_first: bool = True,
        min_hits: int = 1,
        stop: Callable[[], bool] = lambda: False,
        executor: ThreadPoolExecutor | None = None,
    ) -> FilterResult:
        """Scan ``clip`` at 2 fps with the shared scan."""
        return scan(
            clip,
            infer=self.infer,
            rules=DetectionRules(min_hits=min_hits),
            sample_fps=2.0,
            side=self.model.imgsz,
            model="red",
            infer_executor=executor,
            stop=stop,
            keyframes_first=keyframes_first,
        )


class Decoders:
    """The frames each decoder opened on a clip returned (its ``frame_num``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Hook the opening of clips."""
        self._contexts: list[Any] = []
        open_clip = frames._open

        def opening(path: Path) -> Any:
            container = open_clip(path)
            self._contexts.append(container.streams.video[0].codec_context)
            return container

        monkeypatch.setattr(frames, "_open", opening)
        monkeypatch.setattr(keyframes, "_open", opening)

    @property
    def frames(self) -> list[int]:
        """Frames decoded, per decoder in the order they were opened."""
        return [context.frame_num for context in self._contexts]


def _keyframe_times(clip: Path) -> list[float]:
    """The times of the clip's keyframes, from its packets."""
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        return sorted(
            round(float(packet.pts * stream.time_base), 3)
            for packet in container.demux(stream)
            if packet.is_keyframe and packet.pts is not None
        )


def _remux(clip: Path, suffix: str) -> Path:
    """The same stream in another container (MPEG-TS, MKV, AVI)."""
    target = clip.with_suffix(suffix)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-c", "copy", str(target)],
        check=True,
    )
    return target


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for this module's clips."""
    return tmp_path_factory.mktemp("keyframes")


def test_a_person_at_the_keyframes_is_decided_from_keyframes_only(
    monkeypatch: pytest.MonkeyPatch, red_model: Path, clips: Path
) -> None:
    """Only keyframes are decoded and inferred when they satisfy the rules."""
    # Given a 6 s clip with the person visible throughout, keyframes every 2 s
    clip = make_red_box_clip(clips / "throughout.mp4", appears_at=0)
    assert _keyframe_times(clip) == [0.0, 2.0, 4.0]
    recorder = Recorder(monkeypatch, red_model)
    decoders = Decoders(monkeypatch)

    # When it is scanned needing two matching frames
    result = recorder.scan(clip, min_hits=2)

    # Then the person is found from the keyframes at 0 and 2 s alone: only they
    # were decoded, converted and inferred; no other decoder was opened
    assert result.detected_classes == ["person"]
    assert result.frames_sampled == 2
    assert recorder.inferred == [0, 2 * 15360]
    assert all(recorder.keyframe[pts] for pts in recorder.inferred)
    assert not recorder.in_between_started.is_set()
    assert decoders.frames == [2]


@pytest.mark.parametrize("min_hits", [1, 2])
def test_a_deciding_keyframe_is_settled_before_the_next_is_inferred(
    monkeypatch: pytest.MonkeyPatch, red_model: Path, clips: Path, min_hits: int
) -> None:
    """The decoder works one keyframe ahead of the model, but the model does not
    look at the next keyframe while the last one's result may decide the scan."""
    # Given a 6 s clip with the person visible throughout, keyframes every 2 s
    clip = make_red_box_clip(clips / "throughout.mp4", appears_at=0)
    recorder = Recorder(monkeypatch, red_model)
    decoders = Decoders(monkeypatch)

    # When it is scanned with inference on its own worker
    with ThreadPoolExecutor(1) as executor:
        result = recorder.scan(clip, min_hits=min_hits, executor=executor)

    # Then the keyframe that satisfied the rules was the last one inferred, and
    # at most one more keyframe was decoded (while the model looked at it)
    assert result.detected_classes == ["person"]
    assert result.frames_sampled == min_hits
    assert recorder.inferred == [2 * 15360 * i for i in range(min_hits)]
    assert decoders.frames[0] in {min_hits, min_hits + 1}


@pytest.mark.parametrize("suffix", [".mp4", ".ts", ".mkv", ".avi"])
def test_a_person_between_keyframes_is_found_by_the_second_pass(
    monkeypatch: pytest.MonkeyPatch, red_model: Path, clips: Path, suffix: str
) -> None:
    """A person seen only between keyframes is found by the in-between pass."""
    # Given an 8 s clip with keyframes every 4 s and the person seen from 1.5
    # to 2.5 s only, in each container
    made = make_red_box_clip(
        clips / "between.mp4", appears_at=1.5, until=2.5, duration=8, gop=60
    )
    clip = made if suffix == ".mp4" else _remux(made, suffix)
    keyframes = _keyframe_times(clip)
    assert [ts - keyframes[0] for ts in keyframes] == [0.0, 4.0]
    recorder = Recorder(monkeypatch, red_model)
    in_order = recorder.scan(clip, keyframes_first=False)
    sampled = list(recorder.inferred)
    recorder.reset()

    # When it is scanned keyframes first
    result = recorder.scan(clip)

    # Then the keyframes on the sampling grid were inferred first, then the
    # sampled frames in between up to the same frame the old scan stopped at
    keys = [pts for pts in recorder.inferred if recorder.keyframe[pts]]
    assert keys
    assert recorder.inferred == keys + [pts for pts in sampled if pts not in keys]
    assert recorder.in_between_started.is_set()
    assert result.detected_classes == in_order.detected_classes == ["person"]
    assert result.best == in_order.best
    assert result.best is not None
    assert 1.5 <= result.best.frame_ts - keyframes[0] <= 2.0
    assert result.frames_sampled == len(recorder.inferred)
    if suffix == ".mp4":
        # (MP4 starts at 0: the keyframes at 0 and 4 s are both on the grid;
        # then 0.53, 1.0 and 1.53 s)
        assert len(keys) == 2
        assert len(recorder.inferred) == 5


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("gop 2 s", {"gop": 30}),
        ("gop 1.33 s, keyframes off the grid", {"gop": 20}),
        ("gop 4 s, B-frames", {"gop": 60, "bframes": 2}),
        ("all intra", {"gop": 1}),
    ],
)
@pytest.mark.parametrize("threaded", [False, True], ids=["inline", "executor"])
def test_an_empty_clip_infers_each_sampled_frame_once(
    monkeypatch: pytest.MonkeyPatch,
    red_model: Path,
    clips: Path,
    name: str,
    options: dict[str, int],
    threaded: bool,
) -> None:
    """Keyframes plus the frames in between are exactly the sampled frames."""
    # Given a 6 s clip without a person
    clip = make_red_box_clip(
        clips / f"empty {name}.mp4",
        appears_at=99,
        **options,  # type: ignore[arg-type]
    )
    recorder = Recorder(monkeypatch, red_model)

    # When it is scanned the old way (every sampled frame in order), then
    # keyframes first
    with ThreadPoolExecutor(1) as executor:
        pool = executor if threaded else None
        sampled = recorder.scan(clip, keyframes_first=False, executor=pool)
        in_order = list(recorder.inferred)
        recorder.reset()
        result = recorder.scan(clip, executor=pool)

    # Then both inferred the same twelve frames, keyframes first once each
    assert sampled.frames_sampled == len(in_order) == 12
    assert result.frames_sampled == 12
    assert Counter(recorder.inferred) == Counter(in_order)
    assert recorder.inferred != in_order or options["gop"] == 1
    if options["gop"] == 1:
        # Then an all-intra clip's sampled frames are all keyframes: the
        # in-between pass is not needed at all
        assert recorder.in_between_frames == 0


@pytest.mark.parametrize(
    ("gop", "keyframes", "in_between"),
    [
        # 0, 2, 4 s are sampled keyframes; each group is decoded to its last
        # sampled frame (1.53 s in, the 24th of 30 frames), not to its end
        (30, 3, [24, 24, 24]),
        # every 0.2 s (x264's scene cuts on a noisy video look like this):
        # keyframes at whole seconds are sampled; for each frame at x.53 s
        # the group from x.4 s (3 frames) is decoded, the others not at all
        (3, 6, [3] * 6),
    ],
)
def test_the_in_between_pass_decodes_up_to_the_last_sampled_frame(
    monkeypatch: pytest.MonkeyPatch,
    red_model: Path,
    clips: Path,
    gop: int,
    keyframes: int,
    in_between: list[int],
) -> None:
    """Groups of pictures are decoded only as far as their sampled frames, two
    groups at a time by two decoders of their own."""
    # Given a 6 s clip without a person (90 frames, 12 sampled)
    clip = make_red_box_clip(clips / f"tail {gop}.mp4", appears_at=99, gop=gop)
    recorder = Recorder(monkeypatch, red_model)
    decoders = Decoders(monkeypatch)

    # When it is scanned
    result = recorder.scan(clip)

    # Then the twelve sampled frames were inferred, and the in-between
    # decoders (the first opening only looks at the stream) took every other
    # group, skipping the frames after each group's last sampled frame
    assert result.frames_sampled == len(set(recorder.inferred)) == 12
    assert decoders.frames[:2] == [keyframes, 0]
    groups = [sum(in_between[::2]), sum(in_between[1::2])]
    assert sorted(decoders.frames[2:]) == sorted(groups)  # (opened in any order)


def test_an_all_intra_clip_infers_no_more_than_the_sampled_grid(
    monkeypatch: pytest.MonkeyPatch, red_model: Path, clips: Path
) -> None:
    """Keyframes denser than the sampling are capped to the sampling grid."""
    # Given a 6 s all-intra clip (90 keyframes) with the person from 2 s
    clip = make_red_box_clip(clips / "intra person.mp4", gop=1)
    assert len(_keyframe_times(clip)) == 90
    recorder = Recorder(monkeypatch, red_model)
    decoders = Decoders(monkeypatch)

    # When it is scanned needing more hits than there are
    result = recorder.scan(clip, min_hits=99)

    # Then only the twelve sampled frames were decoded and inferred
    assert result.frames_sampled == 12
    assert decoders.frames == [12]
    grid = [math.ceil(i * 7.5) * 1024 for i in range(12)]  # 0, 0.53, 1.0 s...
    assert sorted(recorder.inferred) == grid
    assert len(recorder.keyframe) == 12
    assert not recorder.in_between_started.is_set()


@pytest.mark.parametrize("during", ["keyframes", "in-between"])
def test_cancelling_stops_each_pass(
    monkeypatch: pytest.MonkeyPatch, red_model: Path, clips: Path, during: str
) -> None:
    """``stop`` is polled in both passes; a cancelled scan decodes no further."""
    # Given a 60 s clip without a person (30 keyframes, 120 sampled frames)
    clip = make_red_box_clip(clips / "long.mp4", appears_at=999, duration=60)
    recorder = Recorder(monkeypatch, red_model)

    def stop() -> bool:
        if during == "keyframes":
            return len(recorder.inferred) >= 3
        return recorder.in_between_frames >= 3

    # When the scan is stopped after three frames of one pass
    with pytest.raises(ScanCancelledError):
        recorder.scan(clip, stop=stop)

    # Then it stopped there: nothing more was inferred, and a stop during the
    # keyframes never started the in-between pass, which otherwise was closed
    if during == "keyframes":
        assert len(recorder.inferred) == 3
        assert not recorder.in_between_started.is_set()
    else:
        assert len(recorder.inferred) == 30 + 2
        assert recorder.in_between_frames == 3
        assert recorder.in_between_closed.is_set()
    # and no decoder thread is left running
    assert not [t for t in threading.enumerate() if t.name.startswith("homesec-de")]
