"""Bytes of images sent per analysis: defaults against every sampled frame.

For the 10 s 1080p clip (2 fps, 20 sampled frames), prints the JPEG bytes the
analyzer sends at its defaults (4 frames around the detection, long edge 768,
quality 75), with the crop option, and the naive payload (every sampled frame at
full size, quality 95), with the ratios; base64 in the request adds a third.

    .venv/bin/python -m bench.analysis_payload [CLIP]
"""

from __future__ import annotations

import argparse
import io
import os
from pathlib import Path
import subprocess
import sys
import tempfile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import engine_only

engine_only.install()
from PIL import Image

from custom_components.homesec.engine.analyze.frame_selection import (
    FrameSelection,
    select_jpegs,
)
from custom_components.homesec.engine.detect.frames import sample_frames
from custom_components.homesec.engine.models import Box, Detection, FilterResult

CACHE = Path(os.environ.get("HOMESEC_BENCH_DIR", "/opt/homesec-bench"))
PERSON = FilterResult(
    detected_classes=["person"],
    confidence=0.9,
    frames_sampled=10,
    best=Detection(
        label="person",
        confidence=0.9,
        box=Box(x1=0.4, y1=0.3, x2=0.5, y2=0.8),
        frame_ts=4.0,
    ),
    model="bench",
)


def naive_bytes(clip: Path) -> tuple[int, int]:
    """Every sampled frame at full size, JPEG quality 95: (frames, bytes)."""
    total = frames = 0
    for sampled in sample_frames(clip, 2.0, 1920):
        buffer = io.BytesIO()
        Image.fromarray(sampled.image).save(buffer, format="JPEG", quality=95)
        total += len(buffer.getvalue())
        frames += 1
    return frames, total


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clip", nargs="?", type=Path)
    clip = parser.parse_args().clip or CACHE / "clip1080p.mp4"
    if not clip.exists():
        clip = Path(tempfile.mkdtemp()) / "clip1080p.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
             "testsrc2=size=1920x1080:rate=15:duration=10", "-c:v", "libx264",
             "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", str(clip)],
            check=True,
        )  # fmt: skip
    frames, naive = naive_bytes(clip)
    default = select_jpegs(clip, PERSON, FrameSelection())
    cropped = select_jpegs(clip, PERSON, FrameSelection(crop=True))
    default_bytes = sum(len(jpeg) for _, jpeg in default)
    cropped_bytes = sum(len(jpeg) for _, jpeg in cropped)
    print(f"clip: {clip.name} (10 s, 1080p, sampled at 2 fps)")
    print(f"naive: {frames} frames at 1920x1080, q95: {naive / 1024:8.0f} KiB")
    print(
        f"defaults: {len(default)} frames, long edge 768, q75: "
        f"{default_bytes / 1024:8.0f} KiB  (1/{naive / default_bytes:.1f})"
    )
    print(
        f"defaults + crop: {len(cropped)} frames: {cropped_bytes / 1024:8.0f} KiB  "
        f"(1/{naive / cropped_bytes:.1f})"
    )


if __name__ == "__main__":
    main()
