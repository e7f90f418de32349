"""Real H.264 test clips made with ffmpeg."""

from __future__ import annotations

from pathlib import Path
import subprocess

BACKGROUND = "color=c=0x404040:size={size}:rate=15:duration={duration}"
BOX = "color=c=white:size=80x80:rate=15:duration={duration}"


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
