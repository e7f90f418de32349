"""Which detections count: classes (with groups), confidence, box size, hits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from ..models import Box, FilterResult
from .coco import COCO80
from .parked import ParkedBox
from .zones import Areas, Polygon, Zone, raster

# COCO class names by group, as YOLO models trained on COCO name them.
VEHICLES = "bicycle car motorcycle airplane bus train truck boat"
ANIMALS = "bird cat dog horse sheep cow elephant bear zebra giraffe"
GROUPS: dict[str, frozenset[str]] = {
    "vehicle": frozenset(VEHICLES.split()),
    "animal": frozenset(ANIMALS.split()),
}


def expand(classes: Iterable[str], *, groups: bool = True) -> frozenset[str]:
    """Class names with the groups ``vehicle`` and ``animal`` expanded.

    ``groups=False`` (a custom model, which may name a class "animal"): each
    name stands for itself.
    """
    names: set[str] = set()
    for name in classes:
        names |= GROUPS.get(name, {name}) if groups else {name}
    return frozenset(names)


def group_of(label: str) -> str:
    """``vehicle`` or ``animal`` for a member of a group, else the label."""
    for group, members in GROUPS.items():
        if label in members:
            return group
    return label


def is_coco(names: Iterable[str]) -> bool:
    """Whether a model's class names are COCO's (no names: a COCO model)."""
    given = set(names)
    return not given or given == set(COCO80)


def offered_classes(names: Sequence[str]) -> list[str]:
    """The classes a user can choose for a model with these class names.

    COCO models: person, the vehicle and animal groups, then COCO's other
    classes (each reported under its own name). Other models: their own names,
    which are reported as they are.
    """
    if is_coco(names):
        singles = [name for name in COCO80 if group_of(name) == name]
        return ["person", *GROUPS, *(name for name in singles if name != "person")]
    return list(dict.fromkeys(names))


def zones_by_class(result: FilterResult) -> dict[str, list[str]]:
    """Per detected class (group), the zones its objects stood in."""
    found: dict[str, set[str]] = {}
    for det in [result.best, *result.detections]:
        if det is not None:
            found.setdefault(group_of(det.label), set()).update(det.zones)
    return {label: sorted(zones) for label, zones in found.items()}


class RawDetection(BaseModel):
    """A model's detection in relative coordinates."""

    model_config = ConfigDict(frozen=True)

    label: str
    confidence: float
    box: Box


class DetectionRules(BaseModel):
    """When a sampled frame counts as a hit, and how many hits make a detection."""

    model_config = ConfigDict(frozen=True)

    parked: tuple[ParkedBox, ...] = ()
    """The camera's parked objects: frames showing only them never end a scan."""
    classes: frozenset[str] = frozenset({"person", "vehicle", "animal"})
    min_confidence: float = Field(default=0.5, ge=0, le=1)
    min_box_h_ratio: float = Field(default=0.0, ge=0, le=1)
    min_hits: int = Field(default=1, ge=1)
    coco_groups: bool = True
    """Whether COCO's vehicle and animal groups apply: off for a custom model,
    whose "car" or "dog" is its own class, reported under its own name."""
    masks: tuple[Polygon, ...] = ()
    """Areas hidden from detection: an object standing in one is ignored."""
    zones: tuple[Zone, ...] = ()
    """Named areas; each detection lists the ones it stands in."""

    def group_of(self, label: str) -> str:
        """The name a detected label is reported under."""
        return group_of(label) if self.coco_groups else label

    @cached_property
    def _wanted(self) -> frozenset[str]:
        return expand(self.classes, groups=self.coco_groups)

    @cached_property
    def _rasters(self) -> dict[tuple[int, int], NDArray[np.bool_]]:
        return {}

    def mask_raster(self, width: int, height: int) -> NDArray[np.bool_]:
        """The masked pixels of a ``width`` x ``height`` frame (kept per size)."""
        key = (width, height)
        if (found := self._rasters.get(key)) is None:
            found = self._rasters[key] = raster(self.masks, width, height)
        return found

    @cached_property
    def _masks(self) -> Areas:
        return Areas(self.masks)

    @cached_property
    def _zones(self) -> Areas:
        return Areas([zone.polygon for zone in self.zones])

    def matching(self, detections: Iterable[RawDetection]) -> list[RawDetection]:
        """The detections of one frame that satisfy the rules (none in a mask)."""
        wanted = self._wanted
        found = [
            d
            for d in detections
            if d.label in wanted
            and d.confidence >= self.min_confidence
            and d.box.y2 - d.box.y1 >= self.min_box_h_ratio
        ]
        if not self.masks or not found:
            return found
        hidden = self._masks.in_any([d.box for d in found])
        return [d for d, masked in zip(found, hidden, strict=True) if not masked]

    def zones_for(self, boxes: Sequence[Box]) -> list[list[str]]:
        """For each box, the names of the zones its object stands in."""
        if not self.zones:
            return [[] for _ in boxes]
        names = [zone.name for zone in self.zones]
        return [
            [name for name, inside in zip(names, row, strict=True) if inside]
            for row in self._zones.inside(boxes)
        ]

    def zones_of(self, box: Box) -> list[str]:
        """The names of the zones an object with ``box`` stands in."""
        return self.zones_for([box])[0]
