"""One scan measurement, in a fresh process, for bench/detect.py.

    python -m bench.detect_measure '{"backend": "onnx", "model": ..., "clip": ...}'

Keys: backend ("onnx", "ncnn" or "scan": the engine's scan() on an ONNX model,
with ``keyframes_first``), model, clip, detection_path (a substream recording),
keyframes_first, min_confidence, min_hits, threads, runs. Prints one JSON line:
the median scan time of ``runs`` scans after a warm-up, the frames sampled, the
classes found, the process's peak memory and the largest event-loop stall; or
{"skipped": why} when the engine lacks what the case needs.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
import inspect
import json
from pathlib import Path
import statistics
import sys
import time
from typing import Any

from bench import engine_only

engine_only.install()

from bench.loop_monitor import LoopMonitor
from bench.peak_memory import peak_rss_mb
from custom_components.homesec.engine.detect.rules import (
    DetectionRules,
)
from custom_components.homesec.engine.models import Clip, FilterResult


class SkippedError(Exception):
    """The engine in this checkout lacks a piece the case needs."""


def make_clip(spec: dict[str, Any]) -> Clip:
    """The clip, with its substream recording when the case has one."""
    fields: dict[str, Any] = {
        "clip_id": "bench",
        "camera_name": "bench",
        "local_path": Path(spec["clip"]),
        "start_ts": datetime.now(UTC),
        "source_type": "bench",
    }
    if spec.get("detection_path"):
        if "detection_path" not in Clip.model_fields:
            raise SkippedError("engine.models.Clip has no detection_path yet")
        fields["detection_path"] = Path(spec["detection_path"])
    return Clip(**fields)


def make_scan(spec: dict[str, Any], rules: DetectionRules) -> Any:
    """An async ``detect(clip)`` and a ``close()`` for the case's backend."""
    threads = int(spec.get("threads", 2))
    model = Path(spec["model"])
    if spec["backend"] == "onnx":
        from custom_components.homesec.engine.detect.onnx import (
            OnnxDetector,
            OnnxSettings,
        )

        detector = OnnxDetector(
            OnnxSettings(model_path=model, threads=threads, rules=rules)
        )
        return detector.detect, detector.close
    if spec["backend"] == "ncnn":
        try:
            from custom_components.homesec.engine.detect.ncnn import (
                NcnnDetector,
                NcnnSettings,
            )
        except ImportError as err:
            why = f"engine/detect/ncnn.py is not there yet ({err})"
            raise SkippedError(why) from err
        ncnn_detector = NcnnDetector(
            NcnnSettings(model_path=model, threads=threads, rules=rules)
        )
        return ncnn_detector.detect, ncnn_detector.close
    return scan_through_engine(spec, model, threads, rules)


def scan_through_engine(
    spec: dict[str, Any], model: Path, threads: int, rules: DetectionRules
) -> Any:
    """scan() itself, keyframes first or not, with an ONNX Runtime model."""
    from functools import partial

    from custom_components.homesec.engine.detect.background import lower_priority
    from custom_components.homesec.engine.detect.onnx import (
        OnnxModel,
    )
    from custom_components.homesec.engine.detect.scan import scan

    if "keyframes_first" not in inspect.signature(scan).parameters:
        raise SkippedError("scan() has no keyframes_first parameter yet")
    loaded = OnnxModel(model, threads)
    # the detectors' pools: their threads yield the CPU to the event loop
    infer_pool = ThreadPoolExecutor(1, initializer=lower_priority)
    scan_pool = ThreadPoolExecutor(1, initializer=lower_priority)
    blocking = partial(
        scan,
        infer=partial(loaded.infer, min_confidence=0.25, iou=0.45),
        rules=rules,
        sample_fps=2.0,
        side=loaded.imgsz,
        model=loaded.name,
        infer_executor=infer_pool,
        keyframes_first=bool(spec["keyframes_first"]),
    )

    async def detect(clip: Clip) -> FilterResult:
        path = getattr(clip, "scan_path", clip.local_path)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(scan_pool, partial(blocking, path))

    async def close() -> None:
        infer_pool.shutdown()
        scan_pool.shutdown()

    return detect, close


async def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then time ``runs`` scans inside a running loop."""
    rules = DetectionRules(
        min_confidence=float(spec.get("min_confidence", 0.5)),
        min_hits=int(spec.get("min_hits", 1)),
    )
    item = make_clip(spec)
    detect, close = make_scan(spec, rules)
    first = await detect(item)  # warm-up: loads the model
    times = []
    with LoopMonitor() as monitor:
        for _ in range(int(spec.get("runs", 3))):
            start = time.perf_counter()
            await detect(item)
            times.append(time.perf_counter() - start)
    await close()
    return {
        "scan_s": statistics.median(times),
        "times": times,
        "frames": first.frames_sampled,
        "found": first.detected_classes,
        "stall_ms": monitor.max_stall * 1000,
        "stall_parts": monitor.parts.describe() if monitor.parts else "",
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    """Measure the case given as JSON and print JSON."""
    spec = json.loads(sys.argv[1])
    try:
        result = asyncio.run(measure(spec))
    except SkippedError as why:
        result = {"skipped": str(why)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
