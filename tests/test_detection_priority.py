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


async def test_idle_inference_threads_sleep_between_frames(
    red_model: Path, red_ncnn: Path
) -> None:
    """Neither runtime's worker threads spin while waiting for the next frame."""
    # Given the ONNX Runtime and ncnn backends at two threads
    from custom_components.homesec.engine.detect.ncnn import (  # noqa: PLC0415
        NcnnDetector,
        NcnnSettings,
    )

    onnx = OnnxDetector(OnnxSettings(model_path=red_model, threads=2))
    ncnn = NcnnDetector(NcnnSettings(model_path=red_ncnn, threads=2))

    # When their models load
    try:
        onnx_model = await onnx.load()
        ncnn_model = await ncnn.load()
    finally:
        await onnx.close()
        await ncnn.close()

    # Then their worker threads sleep as soon as a frame is done (spinning
    # takes the cores the decoders and Home Assistant need between frames)
    options = onnx_model._session.get_session_options()
    for pool in ("intra_op", "inter_op"):
        entry = f"session.{pool}.allow_spinning"
        assert options.get_session_config_entry(entry) == "0"
    assert ncnn_model._net.opt.openmp_blocktime == 0
