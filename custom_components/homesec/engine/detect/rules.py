"""Which detections count: classes (with groups), confidence, box size, hits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from ..models import Box
from .coco import COCO80

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
    coco_groups: bool = True
    """Whether COCO's vehicle and animal groups apply: off for a custom model,
    whose "car" or "dog" is its own class, reported under its own name."""

    def group_of(self, label: str) -> str:
        """The name a detected label is reported under."""
        return group_of(label) if self.coco_groups else label

    def matching(self, detections: Iterable[RawDetection]) -> list[RawDetection]:
        """The detections of one frame that satisfy the rules."""
        wanted = expand(self.classes, groups=self.coco_groups)
        return [
            d
            for d in detections
            if d.label in wanted
            and d.confidence >= self.min_confidence
            and d.box.y2 - d.box.y1 >= self.min_box_h_ratio
        ]
