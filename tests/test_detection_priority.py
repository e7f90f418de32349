"""Detection's threads run at a lower CPU priority than Home Assistant."""

from __future__ import annotations

import os
from pathlib import Path
import threading
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.homesec.engine.detect import frames, keyframes
from custom_components.homesec.engine.detect.background import NICE_STEP
from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings

from .clips import clip_of, make_red_box_clip


def _priority() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_decoding_and_inference_yield_the_cpu_to_home_assistant(
    red_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoders and the model run at the process's priority lowered by 5."""
    # Given an ONNX detector whose decoders and model note their thread's CPU
    # priority, and a 10 s clip without a person (every sampled frame scanned,
    # its groups of pictures by two decoders)
    clip = make_red_box_clip(tmp_path / "empty.mp4", appears_at=999, duration=10)
    seen: dict[str, set[int]] = {"decoding": set(), "inference": set()}
    convert = frames._convert

    def converting(frame: av.VideoFrame, *args: Any) -> NDArray[np.uint8]:
        seen["decoding"].add(_priority())
        return convert(frame, *args)

    monkeypatch.setattr(frames, "_convert", converting)
    monkeypatch.setattr(keyframes, "_convert", converting)
    detector = OnnxDetector(OnnxSettings(model_path=red_model))
    model = await detector.load()
    infer = model.infer

    def inferring(*args: Any, **kwargs: Any) -> Any:
        seen["inference"].add(_priority())
        return infer(*args, **kwargs)

    monkeypatch.setattr(model, "infer", inferring)

    # When the clip is scanned
    try:
        result = await detector.detect(clip_of(clip))
    finally:
        await detector.close()

    # Then every decoding and inference ran below the process's priority (the
    # event loop's thread)
    assert result.frames_sampled == 20
    lowered = min(19, _priority() + NICE_STEP)
    assert seen == {"decoding": {lowered}, "inference": {lowered}}
