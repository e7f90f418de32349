"""Per-clip cost of zones and masks (the issue asks for under 1 ms per clip).

A camera with 5 zones and 5 masks of 10 points each; 20 detections a frame:
  tag       naming the zones of 20 detections (once per clip, the best frame),
  match     the rules with masks on 20 raw detections (once per sampled frame),
  clip      a 10 s clip at 2 fps: 20 frames matched, then the best tagged,
  raster    the motion detector's mask of a 320x180 frame (once per clip).
Prints microseconds per operation (best of 5 runs).
"""

from __future__ import annotations

import math
import random
import timeit

from custom_components.homesec.engine.detect.rules import DetectionRules, RawDetection
from custom_components.homesec.engine.detect.zones import Polygon, Zone, raster
from custom_components.homesec.engine.models import Box

POINTS = 10
AREAS = 5
DETECTIONS = 20
FRAMES = 20


def polygon(cx: float, cy: float, radius: float) -> Polygon:
    """A regular polygon of ``POINTS`` points around (cx, cy)."""
    return Polygon(
        points=tuple(
            (
                round(cx + radius * math.cos(2 * math.pi * k / POINTS), 4),
                round(cy + radius * math.sin(2 * math.pi * k / POINTS), 4),
            )
            for k in range(POINTS)
        )
    )


def detections(rng: random.Random) -> list[RawDetection]:
    """``DETECTIONS`` people spread over the frame."""
    found = []
    for _ in range(DETECTIONS):
        x, y = rng.uniform(0, 0.8), rng.uniform(0, 0.7)
        box = Box(x1=x, y1=y, x2=x + 0.1, y2=y + 0.25)
        found.append(RawDetection(label="person", confidence=0.8, box=box))
    return found


def best_of(statement: object, number: int) -> float:
    """Microseconds per call of ``statement``, best of 5 runs."""
    runs = timeit.repeat(statement, number=number, repeat=5)  # type: ignore[arg-type]
    return min(runs) / number * 1e6


def main() -> None:
    """Print the figures."""
    rng = random.Random(16)
    centres = [(0.2, 0.3), (0.7, 0.3), (0.5, 0.5), (0.2, 0.8), (0.75, 0.8)]
    zones = tuple(
        Zone(name=f"zone_{n}", polygon=polygon(x, y, 0.15))
        for n, (x, y) in enumerate(centres)
    )
    masks = tuple(zone.polygon for zone in zones)
    rules = DetectionRules(classes=frozenset({"person"}), zones=zones, masks=masks)
    plain = DetectionRules(classes=frozenset({"person"}))
    frame = detections(rng)

    boxes = [det.box for det in frame]

    def tag() -> None:
        rules.zones_for(boxes)

    def clip() -> None:
        for _ in range(FRAMES):
            rules.matching(frame)
        tag()

    print(f"{AREAS} zones and {AREAS} masks of {POINTS} points, "
          f"{DETECTIONS} detections a frame")  # fmt: skip
    print(f"tag     {best_of(tag, 2000):8.1f} us per clip")
    match = best_of(lambda: rules.matching(frame), 2000)
    without = best_of(lambda: plain.matching(frame), 2000)
    print(f"match   {match:8.1f} us per frame ({without:.1f} us without masks)")
    print(f"clip    {best_of(clip, 200):8.1f} us per clip ({FRAMES} frames)")
    once = best_of(lambda: raster(masks, 320, 180), 20)
    print(f"raster  {once:8.1f} us per camera and frame size (kept by the rules)")


if __name__ == "__main__":
    main()
