"""Which detections count: classes (with groups), confidence, box size, hits."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from ..models import Box
from .parked import ParkedBox

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

    def matching(self, detections: Iterable[RawDetection]) -> list[RawDetection]:
        """The detections of one frame that satisfy the rules."""
        wanted = expand(self.classes)
        return [
            d
            for d in detections
            if d.label in wanted
            and d.confidence >= self.min_confidence
            and d.box.y2 - d.box.y1 >= self.min_box_h_ratio
        ]
