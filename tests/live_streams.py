"""A camera's streams in which a red "person" walks in after motion started.

Each loop: grey until ``MOTION_AT``; a white box (a cat, to the red model:
nothing) moves from then on, and the red box (a "person") walks in at
``PERSON_AT`` and stays while the motion lasts until ``QUIET_AT``; still after.
The main stream and its substream show the same scene, like a camera's.
"""

from __future__ import annotations

from pathlib import Path
import subprocess

MOTION_AT = 2.0
PERSON_AT = 5.0
QUIET_AT = 11.0
LOOP_S = 16
FPS = 15
MAIN = (640, 360)
SUB = (320, 180)


BLIP_S = 1.5
"""How long the person of the ``blip_*`` streams stays."""


def make_stream(
    path: Path, width: int, height: int, *, person: bool = True, stay: float = 0
) -> Path:
    """One loop of the scene at ``width`` x ``height`` (1 s GOPs).

    ``stay``: the person leaves that many seconds after ``PERSON_AT`` (0: stays
    while the motion lasts).
    """
    leaves = PERSON_AT + stay if stay else QUIET_AT
    box_w, box_h = width * 15 // 100 // 2 * 2, height * 45 // 100 // 2 * 2
    scene = f"size={width}x{height}:rate={FPS}:duration={LOOP_S}"
    box = f"size={box_w}x{box_h}:rate={FPS}:duration={LOOP_S}"
    speed = width // 12
    cat = (
        f"x='{width // 2}+(t-{MOTION_AT})*{speed}':y={height // 2}"
        f":enable='between(t,{MOTION_AT},{QUIET_AT})'"
    )
    walker = (
        f"x='(t-{PERSON_AT})*{speed}':y={height // 8}"
        f":enable='between(t,{PERSON_AT},{leaves})'"
    )
    red = "0xdc1414" if person else "0xb0b0b0"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"color=c=0xb0b0b0:{scene}",
            "-f", "lavfi", "-i", f"color=c=0xf0f0f0:{box}",
            "-f", "lavfi", "-i", f"color=c={red}:{box}",
            "-filter_complex",
            f"[0][1]overlay={cat}[cat];[cat][2]overlay={walker}:shortest=1",
            "-c:v", "libx264", "-g", str(FPS), "-bf", "0", "-pix_fmt", "yuv420p",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def make_streams(folder: Path) -> Path:
    """``main.mp4``/``sub.mp4`` with the person, ``blip_*`` with the person for
    ``BLIP_S`` only."""
    make_stream(folder / "main.mp4", *MAIN)
    make_stream(folder / "sub.mp4", *SUB)
    make_stream(folder / "blip_main.mp4", *MAIN, stay=BLIP_S)
    make_stream(folder / "blip_sub.mp4", *SUB, stay=BLIP_S)
    return folder
