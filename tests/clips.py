"""Real H.264 test clips made with ffmpeg."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
import subprocess

from custom_components.homesec.engine.models import Clip

BACKGROUND = "color=c=0x404040:size={size}:rate=15:duration={duration}"
BOX = "color=c=white:size=80x80:rate=15:duration={duration}"


def clip_of(path: Path) -> Clip:
    """A clip record for the video file at ``path``, as a detector gets it."""
    return Clip(
        clip_id=path.stem,
        camera_name="porch",
        local_path=path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )


def make_clip(
    path: Path, *, motion: bool, size: str = "640x360", duration: int = 4
) -> Path:
    """Encode a clip: a grey scene, with a white box moving across when ``motion``."""
    encode = ["-c:v", "libx264", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p"]
    inputs = ["-f", "lavfi", "-i", BACKGROUND.format(size=size, duration=duration)]
    if motion:
        inputs += ["-f", "lavfi", "-i", BOX.format(duration=duration)]
        inputs += [
            "-filter_complex",
            "[0][1]overlay=x='mod(t*160,560)':y=140:shortest=1",
        ]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, *encode, str(path)],
        check=True,  # no timeout: its polling sleep would count as a blocking call
    )
    return path


RED_BOX = (120 / 640, 100 / 360, 220 / 640, 260 / 360)
"""Where ``make_red_box_clip``'s box is: x1, y1, x2, y2 relative to the frame."""

UNMET_RULES = [
    ({"min_box_h_ratio": 0.6}, "the box is 0.44 of the frame height"),
    ({"classes": ["vehicle"]}, "only vehicles are wanted"),
    ({"min_confidence": 0.95}, "the red-person models are 0.9 sure"),
    ({"min_hits": 9}, "only 8 sampled frames show the box"),
]
"""Detection rules the red box does not satisfy, and why."""


def make_red_box_clip(
    path: Path,
    *,
    appears_at: float = 2.0,
    duration: int = 6,
    box: str = "100x160",
    codec: str = "libx264",
    rotate: int | None = None,
    until: float | None = None,
    gop: int = 30,
    bframes: int = 0,
) -> Path:
    """A grey 640x360 clip in which a red box appears at ``appears_at`` seconds
    (and goes at ``until``), with a keyframe every ``gop`` frames (15 fps)."""
    shown = f"between(t,{appears_at},{until})" if until else f"gte(t,{appears_at})"
    args = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", BACKGROUND.format(size="640x360", duration=duration),
        "-f", "lavfi", "-i", f"color=c=0xdc1414:size={box}:rate=15:duration={duration}",
        "-filter_complex",
        f"[0][1]overlay=x=120:y=100:enable='{shown}':shortest=1",
        "-c:v", codec, "-g", str(gop), "-bf", str(bframes), "-pix_fmt", "yuv420p",
    ]  # fmt: skip
    if codec == "libx265":
        args += ["-tag:v", "hvc1", "-x265-params", "log-level=error"]
    if rotate is not None:
        args += ["-metadata:s:v:0", f"rotate={rotate}"]
    subprocess.run([*args, str(path)], check=True)
    return path


def make_camera_loop_clip(path: Path, size: str = "640x360") -> Path:
    """10 s for an RTSP camera: a box rests until 4 s, moves until 7 s, then rests."""
    x = "if(between(t,4,7),(t-4)*150,if(gt(t,7),450,0))"
    args = [
        "ffmpeg", "-v", "error", "-y",
        "-f", "lavfi", "-i", BACKGROUND.format(size=size, duration=10),
        "-f", "lavfi", "-i", BOX.format(duration=10),
        "-filter_complex", f"[0][1]overlay=x='{x}':y=140:shortest=1",
        "-c:v", "libx264", "-g", "15", "-bf", "0", "-pix_fmt", "yuv420p",
    ]  # fmt: skip
    subprocess.run([*args, str(path)], check=True)
    return path


def make_audio_only_clip(path: Path) -> Path:
    """A 3 s MP4 with a sine tone and no video track."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         "sine=frequency=440:duration=3", "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip
    return path
