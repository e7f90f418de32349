"""The NCNN conversion against its ONNX source, with the ``ncnn`` package itself.

Runs the same letterboxed frames of a clip through ONNX Runtime and through the
converted ``*_ncnn_model/`` (input blob ``in0``, output ``out0``), prints the
largest difference of their raw outputs and the inference time per frame of
each (ncnn also on one thread), in a fresh process:

    python -m bench.detect_ncnn_check MODEL.onnx MODEL_ncnn_model/ CLIP THREADS
"""

from __future__ import annotations

import json
from pathlib import Path
import sys
import time

import numpy as np
from numpy.typing import NDArray

from bench import engine_only

engine_only.install()

from custom_components.homesec.engine.detect.frames import (
    sample_frames,
)
from custom_components.homesec.engine.detect.yolo import PAD_VALUE


def letterbox(rgb: NDArray[np.uint8], size: int) -> NDArray[np.float32]:
    """CHW float input, as the ONNX backend builds it."""
    height, width = rgb.shape[:2]
    canvas = np.full((size, size, 3), PAD_VALUE, dtype=np.uint8)
    top, left = (size - height) // 2, (size - width) // 2
    canvas[top : top + height, left : left + width] = rgb
    return np.ascontiguousarray(canvas.transpose(2, 0, 1), dtype=np.float32) / 255.0


def compare(
    onnx_path: Path, folder: Path, clip: Path, threads: int
) -> dict[str, float]:
    """Largest output difference and per-frame times of both runtimes."""
    import ncnn
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Its idle threads would otherwise spin and slow ncnn's down.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(
        str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    size = int(session.get_inputs()[0].shape[2])
    name = session.get_inputs()[0].name
    nets = {}
    for count in (threads, 1):
        net = ncnn.Net()
        net.opt.num_threads = count
        net.load_param(str(folder / "model.ncnn.param"))
        net.load_model(str(folder / "model.ncnn.bin"))
        nets[count] = net
    tensors = [letterbox(s.image, size) for s in sample_frames(clip, 2.0, size)]
    worst = 0.0
    spent = {"onnx": 0.0, "ncnn": 0.0, "ncnn1": 0.0}
    for round_ in range(2):  # the first round warms both up
        for tensor in tensors:
            start = time.perf_counter()
            expected = session.run(None, {name: tensor[None]})[0][0]
            spent["onnx"] += (time.perf_counter() - start) * round_
            for key, net in (("ncnn", nets[threads]), ("ncnn1", nets[1])):
                start = time.perf_counter()
                extractor = net.create_extractor()
                extractor.input("in0", ncnn.Mat(tensor).clone())
                _, out = extractor.extract("out0")
                got = np.array(out).reshape(expected.shape)
                spent[key] += (time.perf_counter() - start) * round_
                worst = max(worst, float(np.abs(got - expected).max()))
    return {
        "frames": len(tensors),
        "max_abs_diff": worst,
        "outputs": float(np.prod(expected.shape)),
    } | {f"{key}_ms": value / len(tensors) * 1000 for key, value in spent.items()}


def main() -> None:
    """Compare and print JSON (or {"skipped": why})."""
    onnx_path, folder, clip, threads = sys.argv[1:5]
    try:
        result: dict[str, object] = dict(
            compare(Path(onnx_path), Path(folder), Path(clip), int(threads))
        )
    except ImportError as err:
        result = {"skipped": f"{err.name} is not installed in this environment"}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
