"""Zones and masks: polygons in relative coordinates (0..1) over a camera's frame.

A *mask* hides an area from detection; a *zone* names one. An object is inside
a polygon when its box's bottom centre is (where it stands, as Frigate counts).
Text form: ``x,y`` points separated by spaces, for example
``0.1,0.5 0.4,0.5 0.4,0.9 0.1,0.9``; a zone is ``name: points``, one a line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import re

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..models import Box

MIN_POINTS = 3
MAX_POINTS = 32
MAX_POLYGONS = 16
MAX_NAME = 40
ZONE_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")

type Point = tuple[float, float]


class PolygonError(ValueError):
    """Polygon text that cannot be used; ``key`` names the problem for the user."""

    def __init__(self, key: str, line: int, detail: str = "") -> None:
        """``line`` is 1-based (0: the text as a whole)."""
        super().__init__(f"line {line}: {key} {detail}".strip())
        self.key = key
        self.line = line
        self.detail = detail


class Polygon(BaseModel):
    """A closed polygon of 3 to ``MAX_POINTS`` points, each within 0..1."""

    model_config = ConfigDict(frozen=True)

    points: tuple[Point, ...] = Field(min_length=MIN_POINTS, max_length=MAX_POINTS)

    @field_validator("points")
    @classmethod
    def _inside_frame(cls, points: tuple[Point, ...]) -> tuple[Point, ...]:
        if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in points):
            raise ValueError("points must be within 0..1")
        return points

    def contains(self, x: float, y: float) -> bool:
        """Whether ``(x, y)`` is inside (even-odd ray casting)."""
        inside = False
        points = self.points
        x0, y0 = points[-1]
        for x1, y1 in points:
            if (y1 > y) != (y0 > y) and x < (x0 - x1) * (y - y1) / (y0 - y1) + x1:
                inside = not inside
            x0, y0 = x1, y1
        return inside

    def text(self) -> str:
        """The polygon's text form."""
        return " ".join(f"{x:g},{y:g}" for x, y in self.points)


class Zone(BaseModel):
    """A named area of a camera's frame."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=ZONE_NAME.pattern, max_length=MAX_NAME)
    polygon: Polygon


class Areas:
    """Polygons prepared to test many points at once (numpy, no Python loops).

    Even-odd ray casting over every edge of every polygon in one pass: a clip's
    checks cost tens of microseconds whatever the number of zones and points.
    """

    def __init__(self, polygons: Sequence[Polygon]) -> None:
        """Prepare the edges of ``polygons`` (horizontal ones never count)."""
        edges: list[tuple[float, float, float, float]] = []
        owners: list[int] = []
        for index, polygon in enumerate(polygons):
            x0, y0 = polygon.points[-1]
            for x1, y1 in polygon.points:
                if y0 != y1:
                    edges.append((x0, y0, x1, y1))
                    owners.append(index)
                x0, y0 = x1, y1
        table = np.asarray(edges, dtype=np.float64).reshape(-1, 4)
        self._y0 = table[:, 1]
        self._y1 = table[:, 3]
        self._x1 = table[:, 2]
        self._slope = (table[:, 0] - table[:, 2]) / (table[:, 1] - table[:, 3])
        self._owner = np.zeros((len(edges), len(polygons)), dtype=np.int32)
        self._owner[np.arange(len(edges)), owners] = 1
        self.count = len(polygons)

    def inside(self, boxes: Sequence[Box]) -> NDArray[np.bool_]:
        """Which polygons (columns) each object (rows) stands in."""
        if not boxes or not self.count:
            return np.zeros((len(boxes), self.count), dtype=np.bool_)
        px = np.fromiter(((b.x1 + b.x2) / 2 for b in boxes), np.float64)[:, None]
        py = np.fromiter((b.y2 for b in boxes), np.float64)[:, None]
        crosses = (self._y1 > py) != (self._y0 > py)
        hits = crosses & (px < self._slope * (py - self._y1) + self._x1)
        parity: NDArray[np.bool_] = (hits.astype(np.int32) @ self._owner) % 2 == 1
        return parity

    def in_any(self, boxes: Sequence[Box]) -> list[bool]:
        """Whether each object stands in one of the polygons."""
        found: NDArray[np.bool_] = np.any(self.inside(boxes), axis=1)
        return [bool(value) for value in found]


def foot(box: Box) -> Point:
    """Where an object stands: its box's bottom centre."""
    return (box.x1 + box.x2) / 2, box.y2


def parse_points(text: str, line: int = 1) -> Polygon:
    """One polygon from ``x,y x,y x,y...``; raises PolygonError."""
    points: list[Point] = []
    for pair in text.replace(";", " ").split():
        parts = pair.split(",")
        try:
            x, y = (float(part) for part in parts)
        except ValueError:
            raise PolygonError("polygon_not_points", line, pair) from None
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise PolygonError("polygon_out_of_frame", line, pair)
        points.append((x, y))
    if len(points) < MIN_POINTS:
        raise PolygonError("polygon_too_few_points", line)
    if len(points) > MAX_POINTS:
        raise PolygonError("polygon_too_many_points", line)
    return Polygon(points=tuple(points))


def _lines(text: str) -> Iterable[tuple[int, str]]:
    numbered = [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in numbered if line]
    if len(lines) > MAX_POLYGONS:
        raise PolygonError("too_many_polygons", 0)
    return lines


def parse_masks(text: str) -> tuple[Polygon, ...]:
    """Masks, one polygon a line (empty lines skipped); raises PolygonError."""
    return tuple(parse_points(line, n) for n, line in _lines(text))


def parse_zones(text: str) -> tuple[Zone, ...]:
    """Zones, ``name: points`` one a line; raises PolygonError."""
    zones: list[Zone] = []
    for n, line in _lines(text):
        name, colon, points = line.partition(":")
        name = name.strip().lower().replace(" ", "_")
        if not colon or not ZONE_NAME.match(name) or len(name) > MAX_NAME:
            raise PolygonError("zone_needs_name", n)
        if any(zone.name == name for zone in zones):
            raise PolygonError("zone_name_twice", n, name)
        zones.append(Zone(name=name, polygon=parse_points(points, n)))
    return tuple(zones)


def zones_text(zones: Iterable[Zone]) -> str:
    """The text form of ``zones``."""
    return "\n".join(f"{zone.name}: {zone.polygon.text()}" for zone in zones)


def masks_text(masks: Iterable[Polygon]) -> str:
    """The text form of ``masks``."""
    return "\n".join(mask.text() for mask in masks)


def raster(masks: Sequence[Polygon], width: int, height: int) -> NDArray[np.bool_]:
    """Which pixels of a ``width`` x ``height`` frame lie in one of ``masks``."""
    xs = (np.arange(width, dtype=np.float32) + 0.5) / width
    ys = (np.arange(height, dtype=np.float32) + 0.5) / height
    px, py = np.meshgrid(xs, ys)
    hidden = np.zeros((height, width), dtype=np.bool_)
    for mask in masks:
        inside = np.zeros_like(hidden)
        x0, y0 = mask.points[-1]
        for x1, y1 in mask.points:
            if y0 != y1:
                crosses = (y1 > py) != (y0 > py)
                inside ^= crosses & (px < (x0 - x1) * (py - y1) / (y0 - y1) + x1)
            x0, y0 = x1, y1
        hidden |= inside
    return hidden
