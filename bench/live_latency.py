"""Person to phone: live detection against the clip path, on a real RTSP camera.

A real RTSP server (the tests' one, a child process: not counted) loops the
tests' camera streams (``tests/live_streams.py``: 640x360 main, 320x180
substream, 15 fps): motion starts at 2 s of each 16 s loop, the red "person"
of the test model walks in at 5 s, all is still from 11 s. In this process an
RtspSource records the camera and a ClipPipeline (ONNX or ncnn detector, one
thread) processes its clips, as in Home Assistant.

Each loop is one trial. From the wall time the substream's first frame with
the person arrived, it measures the time to the detection event (the event
bus output's ``detected``) and to the phone's first call (the phone output's
quick word), for the live path and for today's clip path (live detection off,
the clip scanned when it is finished). Prints p50/p95 of each, the ratio,
the event loop's stalls, and this process's CPU per camera (cores) while
each path runs.

Two stall figures: how late a task sleeping 5 ms at a time woke (max, p99:
every reason the loop did not run, the machine's included), and the longest
callback the loop ran (``bench/loop_callbacks.py``: what held the loop). An
idle control first runs the same monitor with nothing else in the process, so
the wake-up figures can be read against what this machine does to an idle
loop (a VM whose host steals CPU time delays it too).

    python -m bench.live_latency --trials 5 --backend onnx ncnn
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
import os
from pathlib import Path
import resource
import tempfile
import time

from custom_components.homesec.engine.detect.ncnn import NcnnDetector, NcnnSettings
from custom_components.homesec.engine.detect.onnx import OnnxDetector, OnnxSettings
from custom_components.homesec.engine.detect.rules import DetectionRules
from custom_components.homesec.engine.detect.yolo_detector import YoloDetector
from custom_components.homesec.engine.interfaces import Notifier, ObjectDetector
from custom_components.homesec.engine.live import LiveDetection
from custom_components.homesec.engine.models import Alert, Clip, FilterResult
from custom_components.homesec.engine.pipeline import ClipPipeline, PipelineSettings
from custom_components.homesec.engine.policy import DefaultAlertPolicy, PolicySettings
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.sources.rtsp import RtspSettings, RtspSource
from custom_components.homesec.engine.sources.stream import VideoPacket
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)
from custom_components.homesec.engine.storage.local import LocalStorage
from tests.doubles.rtsp_server import RtspServer
from tests.live_streams import LOOP_S, PERSON_AT, make_streams
from tests.red_person_model import build as build_onnx
from tests.red_person_ncnn import build as build_ncnn

from .loop_callbacks import CallbackTimer, Longest
from .stall_probe import StallProbe, slow_callbacks

IDLE_CONTROL_S = 60.0
"""How long the idle control watches the loop."""
STOP_DELAY_S = 3.0
"""The camera's stop delay (the default is 5 s: the clip path is slower still)."""
RULES = DetectionRules(classes=frozenset({"person"}), min_confidence=0.5)


async def run_blocking[T](target: object, *args: object) -> T:
    """Blocking work in a thread, as Home Assistant's executor does."""
    return await asyncio.to_thread(target, *args)  # type: ignore[arg-type]


def cpu() -> float:
    """CPU seconds this process used so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class StallMonitor:
    """Wakes every 5 ms and keeps how late each wake-up was (seconds)."""

    def __init__(self) -> None:
        """Nothing runs before ``with``."""
        self.stalls: list[float] = []
        self.counted = 0
        self.callbacks = CallbackTimer()
        self._task: asyncio.Task[None] | None = None
        self._probe = StallProbe.from_env()

    async def _run(self) -> None:
        probe = self._probe
        while True:
            start = time.perf_counter()
            figures = probe.before() if probe else (0.0, 0.0)
            await asyncio.sleep(0.005)
            stall = time.perf_counter() - start - 0.005
            self.stalls.append(stall)
            if probe is not None:
                probe.after(start, stall, figures)

    def wake_ups(self) -> tuple[float, float]:
        """The counted wake-up stalls' max and p99, in ms."""
        stalls = self.stalls[self.counted :]
        return max(stalls, default=0) * 1000, p(stalls, 0.99) * 1000

    def count_from_now(self) -> None:
        """Leave what was seen so far out of the figures."""
        self.counted = len(self.stalls)
        self.callbacks.reset()

    def __enter__(self) -> StallMonitor:
        """Start sampling."""
        loop = asyncio.get_running_loop()
        self.callbacks.__enter__()
        slow_callbacks(loop)
        if self._probe is not None:
            self._probe.start()
        self._task = loop.create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
        self.callbacks.__exit__()
        if self._probe is not None:
            self._probe.stop()


@dataclass
class Timeline:
    """Wall times of the trials' moments."""

    appeared: list[float] = field(default_factory=list)
    event: dict[str, float] = field(default_factory=dict)
    phone: dict[str, float] = field(default_factory=dict)
    clip_of: dict[str, float] = field(default_factory=dict)
    """Clip id -> the appearance it shows."""


class TimedSource(RtspSource):
    """The RTSP source, noting when the substream's person frame arrives."""

    timeline: Timeline

    def _on_motion_packet(self, packet: VideoPacket, now: float) -> None:
        if packet.pts is not None and packet.time_base is not None:
            position = float(packet.pts * packet.time_base) % LOOP_S
            previous = getattr(self, "_position", None)
            if previous is not None and previous < PERSON_AT <= position:
                self.timeline.appeared.append(now)
            self._position = position
        super()._on_motion_packet(packet, now)


class TimedOutput(Notifier):
    """An output noting when it heard of each clip's detection."""

    def __init__(self, name: str, seen: dict[str, float]) -> None:
        """Note into ``seen``."""
        self.name = name
        self._seen = seen

    async def notify(self, alert: Alert) -> None:
        """The alert itself is not timed."""

    async def detected(self, clip: Clip, result: FilterResult) -> None:
        """Note the first word of the clip."""
        self._seen.setdefault(clip.clip_id, time.time())


def detector(backend: str, models: Path) -> YoloDetector:  # type: ignore[type-arg]
    """The backend with the red-person model, one inference thread."""
    if backend == "onnx":
        path = build_onnx(models / "red.onnx")
        return OnnxDetector(OnnxSettings(model_path=path, rules=RULES))
    path = build_ncnn(models / "red_ncnn_model")
    return NcnnDetector(NcnnSettings(model_path=path, rules=RULES))


@dataclass
class Outcome:
    """One path's figures."""

    to_event: list[float]
    to_phone: list[float]
    stall_ms: float
    stall_p99_ms: float
    cpu_cores: float
    longest: Longest
    """The longest callback the loop ran."""
    largest_gc_ms: float
    """The longest garbage collection pause of the process."""


async def measure(
    url: str, sub_url: str, work: Path, backend: str, *, live: bool, trials: int
) -> Outcome:
    """Run the camera for ``trials`` loops; time each person to event and phone."""
    timeline = Timeline()
    found: ObjectDetector = detector(backend, work / "models")
    store = SQLAlchemyStateStore(sqlite_url(work / "state.db"))
    repository = ClipRepository(store)
    await repository.start()
    pipeline = ClipPipeline(
        storage=LocalStorage(work / "clips", run_blocking),
        detector=found,
        analyzer=None,
        policy=DefaultAlertPolicy(PolicySettings()),
        notifiers=[
            TimedOutput("event bus", timeline.event),
            TimedOutput("notify.mobile_app_bench", timeline.phone),
        ],
        repository=repository,
        settings=PipelineSettings(),
    )
    spool = Spool(work / "spool")
    source = TimedSource(
        "bench",
        RtspSettings.model_validate(
            {"url": url, "motion_url": sub_url, "stop_delay_s": STOP_DELAY_S,
             "pre_roll_s": 1.0}
        ),
        spool,
        run_blocking,
    )  # fmt: skip
    source.timeline = timeline
    if live:
        hub = LiveDetection(
            found,
            sink=pipeline.live,
            rules_for=pipeline.rules_for,
            run_blocking=run_blocking,
            enabled=lambda _: True,
        )
        source.watch_live(hub.camera("bench"))
    wanted = trials + 1  # the first loop may start mid-scene: not counted
    with StallMonitor() as monitor:
        await source.start(pipeline.submit)
        started_cpu, started = cpu(), time.monotonic()
        try:
            deadline = time.monotonic() + LOOP_S * (wanted + 2) + 30
            while len(timeline.phone) < wanted and time.monotonic() < deadline:
                if not timeline.phone:  # stalls count from the first trial on
                    monitor.count_from_now()
                await asyncio.sleep(0.2)
        finally:
            cores = (cpu() - started_cpu) / (time.monotonic() - started)
            await source.stop()
            await pipeline.drain()
            await found.close()
            await repository.close()
    to_event, to_phone = latencies(timeline)
    return Outcome(
        to_event[1:], to_phone[1:], *monitor.wake_ups(), cores,
        monitor.callbacks.longest, monitor.callbacks.largest_gc * 1000,
    )  # fmt: skip


async def idle_control(seconds: float) -> tuple[float, float, Longest]:
    """The same monitor on a loop with nothing else to do: max, p99 (ms)."""
    with StallMonitor() as monitor:
        await asyncio.sleep(1.0)
        monitor.count_from_now()
        await asyncio.sleep(seconds)
    return *monitor.wake_ups(), monitor.callbacks.longest


def latencies(timeline: Timeline) -> tuple[list[float], list[float]]:
    """For each clip in order: its person's appearance to its words.

    The appearance is the last one before the word, within a loop (a word
    without one, after a reconnection, is left out).
    """
    to_event: list[float] = []
    to_phone: list[float] = []
    for clip_id in sorted(timeline.phone, key=timeline.phone.__getitem__):
        said = timeline.phone[clip_id]
        before = [t for t in timeline.appeared if said - LOOP_S + 2 < t <= said]
        if not before:
            continue
        appeared = max(before)
        to_event.append(timeline.event.get(clip_id, said) - appeared)
        to_phone.append(said - appeared)
    return to_event, to_phone


def p(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank); NaN without values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(trials: int, backends: list[str], idle_s: float) -> None:
    """Measure both paths for each backend and print the figures."""
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "streams"
        folder.mkdir()
        make_streams(folder)
        server = RtspServer(folder)
        server.start()
        try:
            idle_max, idle_p99, idle_longest = await idle_control(idle_s)
            print(
                f"idle control ({idle_s:.0f} s, the loop has nothing to do): "
                f"wake-up stall max {idle_max:5.1f} ms, p99 {idle_p99:4.1f} ms, "
                f"longest callback {idle_longest.wall * 1000:.1f} ms",
                flush=True,
            )
            for backend in backends:
                results = {}
                for live in (True, False):
                    work = Path(tmp) / f"{backend}-{live}"
                    (work / "models").mkdir(parents=True)
                    results[live] = await measure(
                        server.url("main.mp4"), server.url("sub.mp4"), work,
                        backend, live=live, trials=trials,
                    )  # fmt: skip
                report(backend, results[True], results[False])
        finally:
            server.stop()
    print(f"load average after: {os.getloadavg()}")


def report(backend: str, live: Outcome, clip: Outcome) -> None:
    """Print one backend's figures."""
    print(f"\n{backend}: person appears -> (seconds, p50 / p95, n)")
    for name, outcome in (("live", live), ("clip", clip)):
        print(
            f"  {name:4} event {p(outcome.to_event, 0.5):5.2f} / "
            f"{p(outcome.to_event, 0.95):5.2f}   notify "
            f"{p(outcome.to_phone, 0.5):5.2f} / {p(outcome.to_phone, 0.95):5.2f}"
            f"   n={len(outcome.to_phone)}   wake-up stall max "
            f"{outcome.stall_ms:5.1f} ms, p99 {outcome.stall_p99_ms:4.1f} ms   "
            f"CPU per camera {outcome.cpu_cores:.3f} cores"
        )
        longest = outcome.longest
        print(
            f"        longest callback {longest.wall * 1000:5.1f} ms "
            f"({longest.cpu * 1000:.1f} ms on CPU, garbage collection "
            f"{longest.gc * 1000:.1f} ms of it, machine's CPU steal meanwhile "
            f"{longest.steal * 1000:.0f} ms): {longest.name}; longest garbage "
            f"collection {outcome.largest_gc_ms:.1f} ms"
        )
    ratio = p(clip.to_phone, 0.95) / p(live.to_phone, 0.95)
    print(f"  clip/live notify p95 ratio: {ratio:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument(
        "--idle-control", type=float, default=IDLE_CONTROL_S, metavar="SECONDS"
    )
    parser.add_argument(
        "--backend", nargs="+", choices=["onnx", "ncnn"], default=["onnx", "ncnn"]
    )
    args = parser.parse_args()
    asyncio.run(main(args.trials, args.backend, args.idle_control))
