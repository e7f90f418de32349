"""Which detections count: classes (with groups), confidence, box size, hits."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from ..models import Box, FilterResult
from .zones import Polygon, Zone, masked, zones_of

# COCO class names by group, as YOLO models trained on COCO name them.
VEHICLES = "bicycle car motorcycle airplane bus train truck boat"
ANIMALS = "bird cat dog horse sheep cow elephant bear zebra giraffe"
GROUPS: dict[str, frozenset[str]] = {
    "vehicle": frozenset(VEHICLES.split()),
    "animal": frozenset(ANIMALS.split()),
}


def expand(classes: Iterable[str]) -> frozenset[str]:
    """Class names with the groups ``vehicle`` and ``animal`` expanded."""
    names: set[str] = set()
    for name in classes:
        names |= GROUPS.get(name, {name})
    return frozenset(names)


def group_of(label: str) -> str:
    """``vehicle`` or ``animal`` for a member of a group, else the label."""
    for group, members in GROUPS.items():
        if label in members:
            return group
    return label


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

    classes: frozenset[str] = frozenset({"person", "vehicle", "animal"})
    min_confidence: float = Field(default=0.5, ge=0, le=1)
    min_box_h_ratio: float = Field(default=0.0, ge=0, le=1)
    min_hits: int = Field(default=1, ge=1)
    masks: tuple[Polygon, ...] = ()
    """Areas hidden from detection: an object standing in one is ignored."""
    zones: tuple[Zone, ...] = ()
    """Named areas; each detection lists the ones it stands in."""

    def matching(self, detections: Iterable[RawDetection]) -> list[RawDetection]:
        """The detections of one frame that satisfy the rules."""
        wanted = expand(self.classes)
        return [
            d
            for d in detections
            if d.label in wanted
            and d.confidence >= self.min_confidence
            and d.box.y2 - d.box.y1 >= self.min_box_h_ratio
            and not (self.masks and masked(d.box, self.masks))
        ]

    def zones_of(self, box: Box) -> list[str]:
        """The names of the zones an object with ``box`` stands in."""
        return zones_of(box, self.zones) if self.zones else []
