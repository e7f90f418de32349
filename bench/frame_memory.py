"""Memory of frame selection and the remote detector, short clip against long.

For a short and a long 720p camera-like clip (sensor noise, 15 fps), prints the
peak process memory each path adds while it runs (RSS high-water mark above
the RSS before it; Linux; the largest of ``--runs``) and its time (the
shortest), next to the old whole-clip approach run alternately in the same
process as a baseline: selection decoded and kept every sampled frame, then
chose; the remote detector decoded and encoded every sampled frame
before its first request. The remote detector sends every frame (its rules ask
for more hits than there are frames) to the detection double on 127.0.0.1, run
in a child process as a real server would be.

    .venv/bin/python -m bench.frame_memory [--short 10] [--long 120] [--runs 2]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
import ctypes
from datetime import UTC, datetime
from functools import partial
import io
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import Any

from aiohttp import ClientSession
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import engine_only
from bench.peak_memory import status_mb

engine_only.install()

from custom_components.homesec.engine.analyze.frame_selection import (
    FrameSelection,
    choose,
    select_jpegs,
)
from custom_components.homesec.engine.detect.frames import sample_frames
from custom_components.homesec.engine.detect.remote import (
    RemoteDetector,
    RemoteSettings,
)
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.detect.scan import HitTracker
from custom_components.homesec.engine.models import Clip, FilterResult
from tests.doubles.detection_server import DetectionServer

NOTHING = FilterResult(detected_classes=[], confidence=0.0, frames_sampled=0, model="-")
LIBC = ctypes.CDLL("libc.so.6")


def make_clip(path: Path, seconds: int) -> Path:
    """A 1280x720 test pattern with sensor noise at a camera's bitrate."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc2=size=1280x720:rate=15:duration={seconds}",
         "-vf", "noise=alls=18:allf=t", "-c:v", "libx264", "-preset", "veryfast",
         "-b:v", "2M", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


def _reset_peak() -> float:
    """Give back freed memory, reset the RSS high-water mark; return RSS in MB."""
    LIBC.malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    return status_mb("VmRSS")


async def measure(run: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """(peak MB added, seconds) of one run."""
    before = _reset_peak()
    began = time.perf_counter()
    await run()
    elapsed = time.perf_counter() - began
    return status_mb("VmHWM") - before, elapsed


async def best_of(
    runs: int, new: Callable[[], Awaitable[Any]], old: Callable[[], Awaitable[Any]]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Alternate new and old ``runs`` times: (largest peak, shortest time) of each."""
    new_figures, old_figures = [], []
    for _ in range(runs):
        new_figures.append(await measure(new))
        old_figures.append(await measure(old))
    return _best(new_figures), _best(old_figures)


def _best(figures: list[tuple[float, float]]) -> tuple[float, float]:
    return max(peak for peak, _ in figures), min(seconds for _, seconds in figures)


def whole_clip_selection(
    path: Path, detections: FilterResult, settings: FrameSelection
) -> list[tuple[float, bytes]]:
    """The baseline: every sampled frame decoded and kept, then four chosen."""
    frames = list(sample_frames(path, settings.sample_fps, settings.max_size))
    focus = detections.best.frame_ts if detections.best else None
    out = []
    for index in choose([f.ts for f in frames], settings.max_frames, focus):
        buffer = io.BytesIO()
        Image.fromarray(frames[index].image).save(
            buffer, format="JPEG", quality=settings.quality
        )
        out.append((frames[index].ts, buffer.getvalue()))
    return out


def _all_jpegs(path: Path, s: RemoteSettings) -> list[tuple[float, Any, bytes]]:
    out = []
    for sampled in sample_frames(path, s.sample_fps, s.side):
        buffer = io.BytesIO()
        Image.fromarray(sampled.image).save(
            buffer, format="JPEG", quality=s.jpeg_quality
        )
        out.append((sampled.ts, sampled.image, buffer.getvalue()))
    return out


async def whole_clip_remote(
    detector: RemoteDetector, s: RemoteSettings, clip: Clip
) -> FilterResult:
    """The baseline: decode and encode the whole clip, then ask frame by frame."""
    frames = await asyncio.to_thread(_all_jpegs, clip.local_path, s)
    tracker = HitTracker(s.rules)
    for ts, image, jpeg in frames:
        raw = await detector.ask(jpeg, image.shape[1], image.shape[0])
        tracker.add(ts, raw, lambda image=image: image)
        if tracker.done:
            break
    return tracker.result("baseline", snapshot=False)


def _row(name: str, new: tuple[float, float], old: tuple[float, float]) -> None:
    print(
        f"{name:<34} {new[0]:8.1f} MB {new[1]:7.2f} s   "
        f"{old[0]:8.1f} MB {old[1]:7.2f} s   x{new[1] / old[1]:.2f}"
    )


def serve() -> None:
    """Run the detection double until stopped; print its address first."""

    async def run() -> None:
        server = DetectionServer()
        await server.start()
        print(server.url, flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


@contextmanager
def detection_double() -> Iterator[str]:
    """The detection double's address, served by a child process."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.frame_memory", "--serve"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        child.terminate()
        child.wait()


async def main(url: str, short: int, long: int, runs: int) -> None:
    """Make the clips, run both paths on each; print the figures."""
    settings = FrameSelection()
    rules = DetectionRules(min_hits=10_000)
    with tempfile.TemporaryDirectory() as folder:
        clips = {
            seconds: make_clip(Path(folder) / f"clip{seconds}.mp4", seconds)
            for seconds in (short, long)
        }
        # warm up (codecs, JPEG encoder, worker threads): not measured
        await asyncio.to_thread(select_jpegs, clips[short], NOTHING, settings)
        print(f"720p clips at 15 fps, sampled at {settings.sample_fps:g} fps")
        print(f"{'':<34} {'streaming (new)':>21}   {'whole clip (old)':>21}   time")
        async with ClientSession() as session:
            remote = RemoteSettings(url=url, rules=rules)
            detector = RemoteDetector(remote, session, asyncio.to_thread)
            for seconds, path in clips.items():
                clip = Clip(
                    clip_id=path.stem,
                    camera_name="bench",
                    local_path=path,
                    start_ts=datetime.now(UTC),
                    source_type="bench",
                )
                new, old = await best_of(
                    runs,
                    partial(asyncio.to_thread, select_jpegs, path, NOTHING, settings),
                    partial(
                        asyncio.to_thread, whole_clip_selection, path, NOTHING, settings
                    ),
                )
                _row(f"select_jpegs, {seconds} s clip", new, old)
                new, old = await best_of(
                    runs,
                    partial(detector.detect, clip),
                    partial(whole_clip_remote, detector, remote, clip),
                )
                sent = round(seconds * remote.sample_fps)
                _row(f"remote detector, {seconds} s ({sent} frames)", new, old)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--short", type=int, default=10)
    parser.add_argument("--long", type=int, default=120)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve:
        serve()
    else:
        with detection_double() as address:
            asyncio.run(main(address, arguments.short, arguments.long, arguments.runs))
