"""CPU per camera for live RTSP motion detection (640x360 stream, 5 fps sampling).

Serves a looping 640x360 15 fps H.264 clip from a real RTSP server (a child
process, not counted), then, in this process, for the same wall time each:
  baseline  demux the stream only (what any RTSP client pays),
  motion    the RtspSource: decode, 5 fps grey frames, blur, differencing, pre-roll
            ring and the recordings it makes.
Prints process CPU seconds per wall second (1.0 = one core) and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import resource
import subprocess
import tempfile
import threading
import time

from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.sources.rtsp import RtspSettings, RtspSource
from custom_components.homesec.engine.sources.stream import open_stream
from custom_components.homesec.engine.spool import Spool
from tests.doubles.rtsp_server import RtspServer

from .loop_monitor import LoopMonitor

FILTER = "[0][1]overlay=x='if(between(t,4,7),(t-4)*150,if(gt(t,7),450,0))':y=140"


def make_clip(path: Path) -> None:
    """10 s, 640x360, 15 fps: a box rests, moves for 3 s, rests."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y",
         "-f", "lavfi", "-i", "color=c=0x404040:size=640x360:rate=15:duration=10",
         "-f", "lavfi", "-i", "color=c=white:size=80x80:rate=15:duration=10",
         "-filter_complex", FILTER + ":shortest=1",
         "-c:v", "libx264", "-g", "15", "-bf", "0", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip


def demux_only(url: str, seconds: float) -> int:
    """Read packets for ``seconds``; how many."""
    packets = 0
    deadline = time.monotonic() + seconds
    with open_stream(url, transport="tcp", open_timeout=10, read_timeout=5) as c:
        for _ in c.demux(c.streams.video[0]):
            packets += 1
            if time.monotonic() > deadline:
                break
    return packets


def cpu() -> float:
    """CPU seconds used by this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(seconds: float) -> None:
    """Measure the baseline and the motion source for ``seconds`` each."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_clip(folder / "cam.mp4")
        server = RtspServer(folder)
        server.start()
        try:
            url = server.url("cam.mp4")
            start_cpu, start = cpu(), time.monotonic()
            packets = await asyncio.to_thread(demux_only, url, seconds)
            base = (cpu() - start_cpu) / (time.monotonic() - start)

            clips: list[Clip] = []

            async def sink(clip: Clip) -> None:
                clips.append(clip)

            loop = asyncio.get_running_loop()
            source = RtspSource(
                "bench",
                RtspSettings(url=url, motion_fps=5, pre_roll_s=2, stop_delay_s=2),
                Spool(folder / "spool"),
                lambda target, *args: loop.run_in_executor(None, target, *args),
            )
            with LoopMonitor() as monitor:
                start_cpu, start = cpu(), time.monotonic()
                await source.start(sink)
                await asyncio.sleep(seconds)
                await source.stop()
                motion = (cpu() - start_cpu) / (time.monotonic() - start)
        finally:
            server.stop()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"stream: 640x360 H.264 15 fps, motion sampled at 5 fps, {seconds:.0f} s each"
    )
    print(f"baseline (demux only): {base * 100:.1f}% of one core ({packets} packets)")
    print(f"motion source:         {motion * 100:.1f}% of one core per camera")
    print(f"ratio motion/baseline: {motion / base if base else float('inf'):.1f}x")
    left = [t.name for t in threading.enumerate() if t.name.startswith("homesec")]
    print(f"clips recorded: {len(clips)}; stream threads left after stop: {len(left)}")
    print(f"largest event-loop stall: {monitor.max_stall * 1000:.1f} ms")
    print(f"peak RSS: {peak_mb:.0f} MB")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    asyncio.run(run(args.seconds))


if __name__ == "__main__":
    main()
