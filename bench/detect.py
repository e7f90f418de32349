"""Detection speed on this machine: sampled PyAV decoding + YOLO on ONNX Runtime.

For the 10 s 1080p clip and its 360p variant (2 fps, 20 sampled frames), with a
YOLO11n-sized ONNX model at imgsz 320, prints the steady-state scan time, the
per-frame inference time, the process's peak memory and the largest event-loop
stall while scanning inside a running loop; then the naive baseline (OpenCV
reading every frame + Ultralytics predict on the sampled frames) and the ratio,
when an environment with Ultralytics is available.

    .venv/bin/python -m bench.detect             # measure
    .venv/bin/python -m bench.detect --prepare   # build the cache (once)

The cache (clips, the exported model and a Python 3.11 environment with CPU
PyTorch and Ultralytics for the baseline) lives outside the repository, in
$HOMESEC_BENCH_DIR (default /opt/homesec-bench); random weights cost the same as
trained ones.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import resource
import statistics
import subprocess
import sys
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE = Path(os.environ.get("HOMESEC_BENCH_DIR", "/opt/homesec-bench"))
BASELINE_VENV = CACHE / "venv"
CLIPS = {"1080p": "size=1920x1080", "360p": "size=640x360"}
IMGSZ = 320
RUNS = 5


def prepare() -> None:
    """Make the clips, the baseline environment and the YOLO11n ONNX export."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, size in CLIPS.items():
        clip = CACHE / f"clip{name}.mp4"
        if not clip.exists():
            subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                 f"testsrc2={size}:rate=15:duration=10", "-c:v", "libx264",
                 "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", str(clip)],
                check=True,
            )  # fmt: skip
    python = BASELINE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run(["python3.11", "-m", "venv", str(BASELINE_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        # A CPU build of torch for Python 3.11 ships with these machines.
        wheels = sorted(Path("/opt/wheels").glob("torch-*+cpu-cp311-*.whl"))
        subprocess.run([*pip, *(str(w) for w in wheels[-1:])], check=True)
        subprocess.run(
            [*pip, "ultralytics", "onnx", "onnxslim", "opencv-python-headless"],
            check=True,
        )
        fake_torchvision_metadata(python)
    model = CACHE / f"yolo11n-{IMGSZ}.onnx"
    if not model.exists():
        subprocess.run(
            [str(python), "-c",
             "from ultralytics import YOLO; import shutil, sys; "
             f"p = YOLO('yolo11n.yaml').export(format='onnx', imgsz={IMGSZ}); "
             f"shutil.move(p, sys.argv[1])", str(model)],
            check=True, cwd=CACHE,
            env=os.environ | {"YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(CACHE)},
        )  # fmt: skip


def fake_torchvision_metadata(python: Path) -> None:
    """Write torchvision's version metadata only, for Ultralytics.

    Ultralytics reads torchvision's version at import; PyPI's torchvision (built
    against CUDA torch) does not load next to CPU torch, so only its metadata is
    written and Ultralytics falls back to its own NMS.
    """
    site = subprocess.run(
        [str(python), "-c",
         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    subprocess.run(
        [str(python), "-m", "pip", "uninstall", "-y", "-q", "torchvision"], check=False
    )
    info = Path(site) / "torchvision-0.28.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torchvision\nVersion: 0.28.0\n"
    )
    (info / "RECORD").write_text("")


async def measure_onnx(clip: Path, model: Path) -> dict[str, float]:
    """Scan ``clip`` with the onnx backend inside a running loop."""
    from bench import engine_only

    engine_only.install()
    from bench.loop_monitor import LoopMonitor
    from custom_components.homesec.engine.detect.frames import (
        sample_frames,
    )
    from custom_components.homesec.engine.detect.onnx import (
        OnnxDetector,
        OnnxSettings,
    )
    from custom_components.homesec.engine.detect.rules import (
        DetectionRules,
    )
    from custom_components.homesec.engine.models import Clip

    # A confidence no random-weight box reaches: every frame is scanned.
    rules = DetectionRules(min_confidence=1.0)
    detector = OnnxDetector(OnnxSettings(model_path=model, threads=1, rules=rules))
    loaded = await detector.load()
    item = Clip(
        clip_id="bench",
        camera_name="bench",
        local_path=clip,
        start_ts=datetime.now(UTC),
        source_type="bench",
    )
    first = await detector.detect(item)  # warm-up
    times = []
    with LoopMonitor() as monitor:
        for _ in range(RUNS):
            start = time.perf_counter()
            await detector.detect(item)
            times.append(time.perf_counter() - start)
    frames = [s.image for s in sample_frames(clip, 2.0, loaded.imgsz)]
    start = time.perf_counter()
    for image in frames:
        loaded.infer(image, min_confidence=0.25, iou=0.45)
    per_frame = (time.perf_counter() - start) / len(frames)
    await detector.close()
    return {
        "scan_s": statistics.median(times),
        "frames": first.frames_sampled,
        "infer_ms": per_frame * 1000,
        "stall_ms": monitor.max_stall * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(clip: str, model: str) -> None:
    """Measure in this (fresh) process and print JSON."""
    print(json.dumps(asyncio.run(measure_onnx(Path(clip), Path(model)))))


def run_child(args: list[str], python: str = sys.executable) -> dict[str, float]:
    """Run one measurement in a fresh process (its own peak memory)."""
    out = subprocess.run(
        [python, *args], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Measure both clips, the baseline when available, and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("CLIP", "MODEL"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.prepare:
        prepare()
    model = CACHE / f"yolo11n-{IMGSZ}.onnx"
    if not model.exists():
        raise SystemExit(f"{model} is missing: run with --prepare first")
    baseline_python = BASELINE_VENV / "bin" / "python"
    print(f"model: YOLO11n (Ultralytics yolo11n.yaml, random weights), imgsz {IMGSZ}")
    print("clip: 10 s, 15 fps H.264 (GOP 30), sampled at 2 fps")
    for name in CLIPS:
        clip = CACHE / f"clip{name}.mp4"
        ours = run_child(["-m", "bench.detect", "--child", str(clip), str(model)])
        print(
            f"{name:>5} onnx: scan {ours['scan_s']:.3f} s for {ours['frames']:.0f} "
            f"frames, inference {ours['infer_ms']:.1f} ms/frame, peak "
            f"{ours['peak_rss_mb']:.0f} MB, largest loop stall "
            f"{ours['stall_ms']:.1f} ms"
        )
        if not baseline_python.exists():
            print(f"{name:>5} naive baseline: skipped (no Ultralytics environment)")
            continue
        for naive_imgsz in (640, IMGSZ):
            naive = run_child(
                [str(ROOT / "bench" / "naive_baseline.py"), str(clip),
                 "yolo11n.yaml", str(naive_imgsz), str(RUNS)],
                python=str(baseline_python),
            )  # fmt: skip
            label = "default imgsz 640" if naive_imgsz == 640 else "imgsz 320"
            print(
                f"{name:>5} naive (OpenCV every frame + Ultralytics, {label}): scan "
                f"{naive['scan_s']:.3f} s, peak {naive['peak_rss_mb']:.0f} MB; ours "
                f"is {naive['scan_s'] / ours['scan_s']:.2f}x faster"
            )


if __name__ == "__main__":
    main()
