"""The naive detection path, for bench/detect.py.

OpenCV reads every frame and Ultralytics predicts on the sampled ones. Runs in an
environment that has ultralytics (PyPI's torch is a multi-GB CUDA build, so not
in .venv).

    python bench/naive_baseline.py CLIP MODEL.pt_or_yaml IMGSZ RUNS
Prints one JSON line: steady-state scan seconds, frames, peak RSS in MB.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

from peak_memory import peak_rss_mb  # a sibling: this file runs as a script

os.environ.setdefault("YOLO_OFFLINE", "1")


def main() -> None:
    """Measure and print."""
    import cv2
    from ultralytics import YOLO
    from ultralytics.nn.autobackend import AutoBackend

    # PyPI's torchvision is built against CUDA torch and does not load next to
    # the CPU build, so it is absent here (only its version metadata is faked by
    # --prepare): Ultralytics then uses its own torch NMS. Its warm-up imports
    # torchvision, so it is skipped; the first, unmeasured scan warms up instead.
    AutoBackend.warmup = lambda self, *args, **kwargs: None  # type: ignore[method-assign]

    clip, model_path = sys.argv[1], sys.argv[2]
    imgsz, runs = int(sys.argv[3]), int(sys.argv[4])
    model = YOLO(model_path)

    def scan() -> int:
        capture = cv2.VideoCapture(clip)
        fps = capture.get(cv2.CAP_PROP_FPS) or 15.0
        step = max(1, round(fps / 2))  # 2 frames per second
        index = sampled = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                model.predict(frame, imgsz=imgsz, verbose=False, device="cpu")
                sampled += 1
            index += 1
        capture.release()
        return sampled

    frames = scan()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        scan()
        times.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "scan_s": statistics.median(times),
                "times": times,
                "frames": frames,
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


if __name__ == "__main__":
    main()
