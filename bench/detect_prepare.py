"""The cache bench/detect.py measures from, built once by ``--prepare``.

It lives outside the repository, in $HOMESEC_BENCH_DIR (default
/opt/homesec-bench): test-pattern and camera-like clips, a Python 3.11
environment with CPU PyTorch, Ultralytics and pnnx, the YOLO11n ONNX export
(random weights: the same compute as trained ones), its NCNN conversion laid out
like an Ultralytics ``*_ncnn_model/`` folder, and the tests' red-person graph at
the same input size (a model that really finds the red box).
"""

from __future__ import annotations

import os
from pathlib import Path
import shutil
import subprocess
import sys

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("HOMESEC_BENCH_DIR", "/opt/homesec-bench"))
BASELINE_VENV = CACHE / "venv"
BASELINE_PYTHON = BASELINE_VENV / "bin" / "python"
IMGSZ = 320
ONNX_MODEL = CACHE / f"yolo11n-{IMGSZ}.onnx"
NCNN_MODEL = CACHE / f"yolo11n-{IMGSZ}_ncnn_model"
RED_MODEL = CACHE / f"red-person-{IMGSZ}.onnx"

FLAT = {"1080p": "size=1920x1080", "360p": "size=640x360"}
"""The flat test-pattern clips (clip1080p.mp4, clip360p.mp4)."""
NOISE = "noise=alls=18:allf=t"
PRE_ROLL = 3
"""Seconds of a motion camera's recording before the person enters (``*_late``)."""
RED_BOX = "drawbox=x=860:y=380:w=200:h=460:color=0xdc1414:t=fill"
CAMERA: dict[str, tuple[str, str, str]] = {
    # name: (testsrc2 size, filters after the sensor noise, video bitrate)
    "cam1080p": ("1920x1080", "", "4M"),
    "cam1080p_person": ("1920x1080", RED_BOX, "4M"),
    "cam1080p_person_late": (
        "1920x1080",
        f"hue=s=0,{RED_BOX}:enable=gte(t\\,{PRE_ROLL})",
        "4M",
    ),
    "cam4k": ("3840x2160", "", "12M"),
    "cam4k_sub360p": ("3840x2160", "scale=640:360", "512k"),
    "cam1080p_sub360p": ("1920x1080", "scale=640:360", "512k"),
}
"""Camera-like clips: 10 s at 15 fps, sensor noise, a camera's bitrate and a
2 s GOP; ``*_sub360p`` is the same scene as a 360p substream; the red box (a
"person", as is testsrc2's red bar) is there throughout, or, in a grey scene,
from ``PRE_ROLL`` seconds on (``*_late``)."""


def clip(name: str) -> Path:
    """A cached clip's path."""
    return CACHE / f"{name}.mp4"


def prepare() -> None:
    """Build whatever is missing from the cache."""
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, size in FLAT.items():
        encode(clip(f"clip{name}"), f"testsrc2={size}:rate=15:duration=10", "")
    for name, (size, filters, bitrate) in CAMERA.items():
        source = f"testsrc2=size={size}:rate=15:duration=10,{NOISE}"
        encode(clip(name), source + (f",{filters}" if filters else ""), bitrate)
    baseline_environment()
    if not ONNX_MODEL.exists():
        subprocess.run(
            [str(BASELINE_PYTHON), "-c",
             "from ultralytics import YOLO; import shutil, sys; "
             f"p = YOLO('yolo11n.yaml').export(format='onnx', imgsz={IMGSZ}); "
             f"shutil.move(p, sys.argv[1])", str(ONNX_MODEL)],
            check=True, cwd=CACHE,
            env=os.environ | {"YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(CACHE)},
        )  # fmt: skip
    if not (NCNN_MODEL / "metadata.yaml").exists():
        convert_to_ncnn(ONNX_MODEL, NCNN_MODEL)
    if not RED_MODEL.exists():
        sys.path.insert(0, str(ROOT))
        from tests.red_person_model import build

        build(RED_MODEL, IMGSZ)


def encode(path: Path, source: str, bitrate: str) -> None:
    """Encode ``source`` (a lavfi graph) as H.264 with a 2 s GOP, no B-frames.

    The GOP is fixed, as cameras send it: x264's scene-cut detection would
    otherwise take sensor noise for cuts and insert keyframes every few frames.
    A clip is encoded again when these settings changed (``.args`` beside it).
    """
    rate = (
        ["-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate] if bitrate else []
    )
    args = [
        "-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset", "veryfast",
        *rate, "-g", "30", "-sc_threshold", "0", "-bf", "0", "-pix_fmt", "yuv420p",
    ]  # fmt: skip
    stamp = path.with_suffix(".args")
    if path.exists() and stamp.exists() and stamp.read_text() == repr(args):
        return
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *args, str(path.with_suffix(".tmp.mp4"))],
        check=True,
    )
    path.with_suffix(".tmp.mp4").rename(path)
    stamp.write_text(repr(args))


def baseline_environment() -> None:
    """Python 3.11 with CPU PyTorch (from /opt/wheels), Ultralytics and pnnx."""
    stamp = BASELINE_VENV / ".homesec-bench"
    if stamp.exists():
        return
    shutil.rmtree(BASELINE_VENV, ignore_errors=True)
    subprocess.run(["python3.11", "-m", "venv", str(BASELINE_VENV)], check=True)
    pip = [str(BASELINE_PYTHON), "-m", "pip", "install", "-q"]
    # A CPU build of torch for Python 3.11 ships with these machines; pinned, so
    # that Ultralytics does not pull PyPI's multi-GB CUDA build over it.
    wheels = sorted(Path("/opt/wheels").glob("torch-*+cpu-cp311-*.whl"))
    if not wheels:
        raise SystemExit("no CPU torch wheel for Python 3.11 in /opt/wheels")
    subprocess.run([*pip, str(wheels[-1])], check=True)
    version = subprocess.run(
        [str(BASELINE_PYTHON), "-c",
         "import importlib.metadata as m; print(m.version('torch'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    constraints = CACHE / "constraints.txt"
    constraints.write_text(f"torch=={version}\n")
    subprocess.run(
        [*pip, "-c", str(constraints), "ultralytics", "onnx", "onnxslim",
         "opencv-python-headless", "pnnx"],
        check=True,
    )  # fmt: skip
    fake_torchvision_metadata(BASELINE_PYTHON)
    stamp.write_text(version + "\n")


def convert_to_ncnn(onnx_model: Path, folder: Path) -> None:
    """``pnnx model.onnx inputshape=[1,3,S,S]``, laid out as Ultralytics does."""
    import onnx
    import yaml

    work = CACHE / "pnnx-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    shutil.copy(onnx_model, work / "model.onnx")
    pnnx = BASELINE_VENV / "bin" / "pnnx"
    subprocess.run(
        [str(pnnx), "model.onnx", f"inputshape=[1,3,{IMGSZ},{IMGSZ}]"],
        check=True, cwd=work, capture_output=True,
    )  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for suffix in ("param", "bin"):
        shutil.move(work / f"model.ncnn.{suffix}", folder / f"model.ncnn.{suffix}")
    meta = {p.key: p.value for p in onnx.load(str(onnx_model)).metadata_props}
    import ast

    metadata = {
        "description": "Ultralytics YOLO11n (random weights), converted with pnnx",
        "task": meta.get("task", "detect"),
        "stride": int(meta.get("stride", 32)),
        "batch": 1,
        "imgsz": [IMGSZ, IMGSZ],
        "names": ast.literal_eval(meta["names"]),
    }
    (folder / "metadata.yaml").write_text(yaml.safe_dump(metadata, sort_keys=False))
    shutil.rmtree(work)


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
