"""Detection speed, memory and loop stalls on this machine, in one run.

Every scan runs in a fresh process (bench/detect_measure.py), so its peak memory
is its own, inside a running event loop whose largest stall is recorded. Sections:

1. test patterns: ONNX Runtime (YOLO11n, imgsz 320) on the flat 1080p and 360p
   clips, against the naive baseline (OpenCV reads every frame, Ultralytics
   predicts on the sampled ones) at its default imgsz 640 and at 320;
2. backends on a camera-like 1080p clip (sensor noise, 4 Mbit/s, 2 s GOP): ncnn
   against ONNX Runtime (target: ncnn <= 1.15x) and both against the naive
   baseline at 640 (target: >= 2.5x faster), on one inference thread (the
   detectors' default), and for comparison on two; the backends and the
   baseline take turns over several rounds, so the machine's drift falls on
   every side of a ratio alike;
3. the NCNN conversion against its ONNX source with the ``ncnn`` package itself;
4. keyframes first against today's full sampled scan (every sampled frame): a
   1080p clip with a "person" visible throughout (target: >= 4x faster), also
   against today's scan stopping at the same match (both decode the first
   keyframe, most of what either costs), a clip where the person enters after
   a motion camera's pre-roll, and an empty one (target: <= 1.1x);
5. a 4K camera scanned on its 360p substream against a 360p clip (target:
   <= 1.2x);
6. the largest peak memory (target: <= 250 MB) and loop stall (< 20 ms) of
   the scans as HomeSec runs them (one inference thread; users cannot choose
   more), then those of the two-thread comparison apart.

YOLO11n has random weights (the same compute as trained ones): it finds
nothing, so each scan samples every frame; it measures inference cost. The
"person throughout" case uses the tests' red-person graph at the same input
size, which finds the clip's red box: it measures decoding savings. Figures and
ratios are printed, never asserted; a section whose engine piece is missing
prints "skipped: <why>".

    .venv/bin/python -m bench.detect --prepare   # build the cache, then measure
    .venv/bin/python -m bench.detect             # measure

The cache lives outside the repository (bench/detect_prepare.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
import json
from pathlib import Path
import statistics
import subprocess
import sys
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import engine_only

engine_only.install()

from bench.detect_prepare import (
    BASELINE_PYTHON,
    CACHE,
    FLAT,
    IMGSZ,
    NCNN_MODEL,
    ONNX_MODEL,
    PRE_ROLL,
    RED_MODEL,
    clip,
    fake_torchvision_metadata,
    prepare,
)
from custom_components.homesec.engine.detect.yolo_detector import YoloSettings

THREADS: int = YoloSettings.model_fields["threads"].default
"""Inference threads: the detectors' default (``YoloSettings.threads``), what
users run. Section 2 also measures 2 threads."""
MORE_THREADS = 2
BACKEND_ROUNDS = 5
"""Section 2's rounds: each runs every backend in turn, so that the machine's
drift (CPU steal on a VM) falls on both sides of the ratio alike."""
RUNS = 3
NOTHING = 1.0
"""A confidence no random-weight box reaches: every sampled frame is scanned."""
EVERY_FRAME = 10_000
"""A ``min_hits`` no clip reaches: the scan goes through every sampled frame."""
Result = dict[str, Any]


def measure(**spec: Any) -> Result:
    """One case in a fresh process (bench/detect_measure.py)."""
    spec = {"threads": THREADS, "runs": RUNS, "min_confidence": 0.5} | spec
    spec = {k: str(v) if isinstance(v, Path) else v for k, v in spec.items()}
    return run_child(["-m", "bench.detect_measure", json.dumps(spec)])


def run_child(args: list[str], python: str = sys.executable) -> Result:
    """Run a measurement in a fresh process; its last line is JSON."""
    out = subprocess.run(
        [python, *args], capture_output=True, text=True, cwd=ROOT, check=False
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode or not lines:
        tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
        return {"skipped": f"failed: {tail}"}
    return dict(json.loads(lines[-1]))


def interleaved(cases: list[Callable[[], Result]], rounds: int) -> list[Result]:
    """Measure ``cases`` in turn, ``rounds`` times over (each in a fresh process).

    Each case's scan time is the median of all its rounds' scans; its peak
    memory and loop stall are the largest of its rounds.
    """
    found: list[list[Result]] = [[] for _ in cases]
    for _ in range(rounds):
        for results, case in zip(found, cases, strict=True):
            results.append(case())
    return [_combined(results) for results in found]


def _combined(results: list[Result]) -> Result:
    """One case from its rounds (skipped if any round was)."""
    for result in results:
        if "skipped" in result:
            return result
    combined = results[0] | {
        "scan_s": statistics.median(t for result in results for t in result["times"]),
        "peak_rss_mb": max(result["peak_rss_mb"] for result in results),
    }
    if "stall_ms" in combined:
        worst = max(results, key=lambda result: float(result["stall_ms"]))
        combined["stall_ms"] = worst["stall_ms"]
        combined["stall_parts"] = worst.get("stall_parts", "")
    return combined


def naive(path: Path, imgsz: int) -> Result:
    """The naive baseline in the Python 3.11 environment."""
    if not BASELINE_PYTHON.exists():
        return {"skipped": "no Ultralytics environment (run --prepare)"}
    return run_child(
        [str(ROOT / "bench" / "naive_baseline.py"), str(path), "yolo11n.yaml",
         str(imgsz), str(RUNS)],
        python=str(BASELINE_PYTHON),
    )  # fmt: skip


class Report:
    """Prints rows and keeps every measured case for the summary."""

    def __init__(self) -> None:
        """No case yet."""
        self.cases: list[tuple[str, Result]] = []
        self.other_settings: list[tuple[str, Result]] = []

    def row(self, label: str, result: Result, *, as_shipped: bool = True) -> Result:
        """Print one case; ``as_shipped`` when HomeSec runs it so (the targets)."""
        if "skipped" in result:
            print(f"  {label}: skipped: {result['skipped']}")
            return result
        (self.cases if as_shipped else self.other_settings).append((label, result))
        found = ", ".join(result.get("found") or []) or "nothing"
        stall = result.get("stall_ms")
        print(
            f"  {label}: scan {result['scan_s']:.3f} s, {result['frames']} frames "
            f"sampled, found {found}, peak {result['peak_rss_mb']:.0f} MB"
            + (f", largest loop stall {stall:.1f} ms" if stall is not None else "")
        )
        return result


def ratio(label: str, slow: Result, fast: Result, target: str) -> None:
    """Print ``slow / fast`` (how many times faster ``fast`` is)."""
    if "skipped" in slow or "skipped" in fast:
        print(f"  {label}: skipped: a case above was skipped")
        return
    note = f" ({target})" if target else ""
    print(f"  {label}: {slow['scan_s'] / fast['scan_s']:.2f}x{note}")


def test_patterns(report: Report) -> None:
    """Section 1: the flat clips, ONNX Runtime against the naive baseline."""
    print("\n1. Test-pattern clips (10 s, 15 fps, GOP 30), YOLO11n, nothing found")
    for name in FLAT:
        path = clip(f"clip{name}")
        ours = report.row(
            f"{name} ONNX Runtime {IMGSZ}",
            measure(
                backend="onnx", model=ONNX_MODEL, clip=path, min_confidence=NOTHING
            ),
        )
        for imgsz in (640, IMGSZ):
            label = "default imgsz 640" if imgsz == 640 else f"imgsz {IMGSZ}"
            slow = report.row(
                f"{name} naive (OpenCV every frame + Ultralytics, {label})",
                naive(path, imgsz),
            )
            ratio(f"{name} ONNX Runtime faster than naive {label}", slow, ours, "")


def backends(report: Report) -> None:
    """Section 2: ncnn, ONNX Runtime and naive on the camera-like 1080p clip."""
    print(
        "\n2. Camera-like 1080p (noise, 4 Mbit/s, GOP 2 s), YOLO11n at "
        f"{IMGSZ}, nothing found: inference cost"
    )
    path = clip("cam1080p")
    slow: Result = {}
    for threads in (THREADS, MORE_THREADS):
        note = " (the detectors' default)" if threads == THREADS else ""
        cases: list[Callable[[], Result]] = [
            partial(
                measure, backend=backend, model=model, clip=path,
                min_confidence=NOTHING, threads=threads,
            )
            for backend, model in (("onnx", ONNX_MODEL), ("ncnn", NCNN_MODEL))
        ]  # fmt: skip
        if threads == THREADS:
            # the naive baseline takes its turns in the same rounds
            cases.insert(0, partial(naive, path, 640))
        results = interleaved(cases, BACKEND_ROUNDS)
        if threads == THREADS:
            slow = report.row("naive baseline, default imgsz 640", results.pop(0))
        print(f"  {threads} inference thread{'s' if threads > 1 else ''}{note}:")
        onnx, ncnn = (
            report.row(f"  {name}", result, as_shipped=threads == THREADS)
            for name, result in zip(("ONNX Runtime", "ncnn"), results, strict=True)
        )
        target = threads == THREADS
        ratio(
            "  ncnn / ONNX Runtime scan time", ncnn, onnx,
            "target <= 1.15x" if target else "",
        )  # fmt: skip
        ratio(
            "  ONNX Runtime faster than naive", slow, onnx,
            "target >= 2.5x" if target else "",
        )  # fmt: skip
        ratio(
            "  ncnn faster than naive", slow, ncnn, "target >= 2.5x" if target else ""
        )


def conversion() -> None:
    """Section 3: the pnnx conversion, run with the ncnn package directly."""
    print(f"\n3. NCNN conversion ({NCNN_MODEL.name}) against its ONNX source")
    result = run_child(
        ["-m", "bench.detect_ncnn_check", str(ONNX_MODEL), str(NCNN_MODEL),
         str(clip("cam1080p")), str(MORE_THREADS)],
    )  # fmt: skip
    if "skipped" in result:
        print(f"  skipped: {result['skipped']}")
        return
    print(
        f"  {result['frames']} frames, {result['outputs']:.0f} outputs each: largest "
        f"difference {result['max_abs_diff']:.1e} (expected <= 1e-3)"
    )
    print(
        f"  inference per frame: ncnn {result['ncnn_ms']:.1f} ms "
        f"({MORE_THREADS} threads), {result['ncnn1_ms']:.1f} ms (1 thread); "
        f"ONNX Runtime {result['onnx_ms']:.1f} ms ({MORE_THREADS} threads); "
        f"ncnn / ONNX Runtime {result['ncnn_ms'] / result['onnx_ms']:.2f}x"
    )


def keyframes(report: Report) -> None:
    """Section 4: keyframes first against today's full sampled scan."""
    print("\n4. Keyframes first against today's sampled scan (scan(), ONNX Runtime)")
    print(
        f"  the red-person graph at {IMGSZ} finds red (a 'person') and costs almost "
        "nothing: this measures decoding"
    )
    print("  person throughout (cam1080p_person):")
    full = report.row(
        "    today's full sampled scan (every sampled frame)",
        measure(
            backend="scan",
            model=RED_MODEL,
            clip=clip("cam1080p_person"),
            keyframes_first=False,
            min_hits=EVERY_FRAME,
        ),
    )
    for hits in (1, 3):
        today, first = scan_both(
            report, f"    min_hits {hits}", RED_MODEL, "cam1080p_person", min_hits=hits
        )
        ratio(
            f"    min_hits {hits}: keyframes first faster than today's full "
            "sampled scan", full, first, "target >= 4x",
        )  # fmt: skip
        ratio(
            f"    min_hits {hits}: keyframes first faster than today's scan stopping "
            "at the same match", today, first, "",
        )  # fmt: skip
    print(
        f"  person entering after a {PRE_ROLL} s pre-roll, grey scene "
        "(cam1080p_person_late):"
    )
    for hits in (1, 3):
        today, first = scan_both(
            report, f"    min_hits {hits}", RED_MODEL, "cam1080p_person_late",
            min_hits=hits,
        )  # fmt: skip
        ratio(f"    min_hits {hits}: keyframes first faster", today, first, "")
    print("  empty clip: YOLO11n finds nothing, so the second pass runs")
    today, first = scan_both(
        report, "empty", ONNX_MODEL, "cam1080p", min_confidence=NOTHING
    )
    ratio("keyframes first / today", first, today, "target <= 1.1x")


def scan_both(
    report: Report, label: str, model: Path, name: str, **rules: Any
) -> tuple[Result, Result]:
    """Today's sampled scan and the keyframes-first one of the same clip."""
    today, first = (
        report.row(
            f"{label}, keyframes_first={first}",
            measure(
                backend="scan",
                model=model,
                clip=clip(name),
                **rules | {"keyframes_first": first},
            ),
        )
        for first in (False, True)
    )
    return today, first


def substream(report: Report) -> None:
    """Section 5: a 4K camera scanned on its 360p substream."""
    print(f"\n5. Substream: YOLO11n at {IMGSZ}, ONNX Runtime, nothing found")
    onnx = {"backend": "onnx", "model": ONNX_MODEL, "min_confidence": NOTHING}
    main = report.row("4K main stream (12 Mbit/s)", measure(clip=clip("cam4k"), **onnx))
    sub = report.row(
        "4K camera with detection_path = its 360p substream",
        measure(clip=clip("cam4k"), detection_path=clip("cam4k_sub360p"), **onnx),
    )
    alone = report.row(
        "360p clip (the same substream recording)",
        measure(clip=clip("cam4k_sub360p"), **onnx),
    )
    ratio("4K with substream / 360p clip", sub, alone, "target <= 1.2x")
    ratio("substream faster than the 4K main stream", main, sub, "")


def summary(report: Report) -> None:
    """Section 6: the largest peak memory and loop stall of HomeSec's scans."""
    print(
        "\n6. Peak memory and event-loop stall over every scan above as HomeSec "
        f"runs it ({THREADS} inference thread)"
    )
    ours = [(label.strip(), r) for label, r in report.cases if "stall_ms" in r]
    if not ours:
        print("  skipped: no scan was measured")
        return
    label, worst = max(ours, key=lambda case: case[1]["peak_rss_mb"])
    print(f"  peak memory {worst['peak_rss_mb']:.0f} MB ({label}; target <= 250 MB)")
    print_stall("  largest loop stall", ours, "; target < 20 ms)")
    others = [
        (label.strip(), r) for label, r in report.other_settings if "stall_ms" in r
    ]
    if others:
        peak = max(r["peak_rss_mb"] for _, r in others)
        print_stall(
            f"  with {MORE_THREADS} inference threads (not a HomeSec setting): "
            "largest loop stall",
            others,
            f"), peak {peak:.0f} MB",
        )


def print_stall(lead: str, cases: list[tuple[str, Result]], after: str) -> None:
    """The largest stall of ``cases``: its figure, case (then ``after``), parts."""
    label, worst = max(cases, key=lambda case: case[1]["stall_ms"])
    print(f"{lead} {worst['stall_ms']:.1f} ms ({label}{after}")
    if worst.get("stall_parts"):
        print(f"    of it: {worst['stall_parts']}")


def checks_per_clip() -> None:
    """Section 7: the per-clip cost of zones, masks and the stationary check."""
    print("\n7. Zone, mask and parked-object checks per clip (target < 1 ms)")
    for module in ("bench.zones", "bench.stationary"):
        done = subprocess.run(
            [sys.executable, "-m", module],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        for line in done.stdout.splitlines():
            print(f"  {line}")


__all__ = ["fake_torchvision_metadata", "main"]  # script/test_ultralytics uses it
SECTIONS = {
    "patterns": test_patterns,
    "backends": backends,
    "keyframes": keyframes,
    "substream": substream,
}


def main() -> None:
    """Prepare when asked, then measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true", help="build the cache")
    parser.add_argument(
        "--only", choices=[*SECTIONS, "conversion"], action="append", default=[]
    )
    args = parser.parse_args()
    if args.prepare:
        prepare()
    if not ONNX_MODEL.exists():
        raise SystemExit(f"{ONNX_MODEL} is missing: run with --prepare first")
    print(f"cache: {CACHE}; YOLO11n (yolo11n.yaml, random weights), imgsz {IMGSZ}")
    print(
        f"{THREADS} inference thread unless said, 2 fps sampling, median of {RUNS} "
        f"scans (section 2: of {BACKEND_ROUNDS} rounds of {RUNS}, the backends in "
        "turn)"
    )
    report = Report()
    chosen = args.only or [*SECTIONS, "conversion"]
    for name, section in SECTIONS.items():
        if name in chosen:
            section(report)
        if name == "backends" and "conversion" in chosen:
            conversion()
    summary(report)
    if not args.only:
        checks_per_clip()


if __name__ == "__main__":
    main()
