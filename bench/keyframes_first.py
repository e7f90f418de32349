"""Keyframes first against the full sampled scan, in the same process.

A 10 s 1080p camera-like clip (sensor noise, 4 Mbit/s, GOP 30 at 15 fps), with
a red box throughout and without, as x264 encodes it by default (its scene-cut
detection adds keyframes on noisy video) and with a fixed GOP as cameras send.
The decision comes from the tests' red-person model; with the YOLO11n export of
bench/detect.py's cache present, each frame also pays a YOLO11n inference at
320 so the time is a real scan's. Prints the median of 3 scans per case.

    .venv/bin/python -m bench.keyframes_first
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from custom_components.homesec.engine.detect.onnx import OnnxModel
from custom_components.homesec.engine.detect.rules import (
    DetectionRules,
    RawDetection,
)
from custom_components.homesec.engine.detect.scan import scan
from tests.red_person_model import build

CACHE = Path(os.environ.get("HOMESEC_BENCH_DIR", "/opt/homesec-bench"))
YOLO = CACHE / "yolo11n-320.onnx"
SIDE = 320
RUNS = 3
RED_BOX = "drawbox=x=800:y=300:w=240:h=500:color=0xdc1414:t=fill"


def make_clip(path: Path, *, person: bool, fixed_gop: bool) -> Path:
    """The camera-like clip; grey under the noise so only the box is red."""
    chain = "hue=s=0,noise=alls=18:allf=t" + (f",{RED_BOX}" if person else "")
    gop = ["-sc_threshold", "0"] if fixed_gop else []
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         "testsrc2=size=1920x1080:rate=15:duration=10", "-vf", chain,
         "-c:v", "libx264", "-b:v", "4M", "-g", "30", "-bf", "0", *gop,
         "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def keyframes(path: Path) -> int:
    """How many keyframes the clip has."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sum(packet.is_keyframe for packet in container.demux(stream))


def main() -> None:
    """Print scan times keyframes first and in order for each clip."""
    with tempfile.TemporaryDirectory(prefix="homesec-keyframes-") as folder:
        measure(Path(folder))


def measure(folder: Path) -> None:
    """Make the clips in ``folder`` and print the figures."""
    red = OnnxModel(build(folder / "red.onnx", size=SIDE), threads=1)
    yolo = OnnxModel(YOLO, threads=1) if YOLO.exists() else None

    def infer(image: object) -> list[RawDetection]:
        if yolo is not None:
            yolo.infer(image, min_confidence=0.25, iou=0.45)  # type: ignore[arg-type]
        return red.infer(image, min_confidence=0.25, iou=0.45)  # type: ignore[arg-type]

    print(f"model cost: red-person graph{' + YOLO11n 320' if yolo else ' only'}")
    pool = ThreadPoolExecutor(1)
    for fixed_gop in (False, True):
        for person, min_hits in ((True, 1), (True, 3), (False, 1)):
            kind = "person" if person else "empty"
            name = f"{kind} {'fixed GOP' if fixed_gop else 'x264'} hits {min_hits}"
            clip = folder / f"{kind}-{fixed_gop}.mp4"
            if not clip.exists():
                make_clip(clip, person=person, fixed_gop=fixed_gop)
            times: dict[bool, list[float]] = {True: [], False: []}
            frames: dict[bool, int] = {}
            for _ in range(RUNS):
                for first in (True, False):
                    start = time.perf_counter()
                    result = scan(
                        clip,
                        infer=infer,
                        rules=DetectionRules(min_hits=min_hits),
                        sample_fps=2.0,
                        side=SIDE,
                        model="bench",
                        infer_executor=pool,
                        keyframes_first=first,
                    )
                    times[first].append(time.perf_counter() - start)
                    frames[first] = result.frames_sampled
            new, old = (statistics.median(times[k]) for k in (True, False))
            print(
                f"{name:24} keyframes {keyframes(clip):3}  "
                f"keyframes first {new:.3f} s ({frames[True]} frames)  "
                f"in order {old:.3f} s ({frames[False]} frames)  "
                f"ratio {old / new:.2f}x",
                flush=True,
            )
    pool.shutdown()


if __name__ == "__main__":
    main()
