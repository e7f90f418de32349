"""Custom models' classes keep their own names through the detection rules."""

from __future__ import annotations

import numpy as np

from custom_components.homesec.engine.detect.rules import (
    DetectionRules,
    RawDetection,
    offered_classes,
)
from custom_components.homesec.engine.detect.scan import HitTracker
from custom_components.homesec.engine.models import Box

BOX = Box(x1=0.1, y1=0.1, x2=0.5, y2=0.9)


def _found(rules: DetectionRules, *labels: str) -> list[str]:
    """The classes a scan reports when one frame shows ``labels``."""
    tracker = HitTracker(rules)
    raw = [RawDetection(label=label, confidence=0.9, box=BOX) for label in labels]
    tracker.add(0.0, raw, lambda: np.zeros((8, 8, 3), dtype=np.uint8))
    return tracker.result("m", snapshot=False).detected_classes


def test_a_custom_model_s_labels_are_reported_under_their_own_names() -> None:
    """ "car", "animal" and "package" of a custom model are not COCO's groups."""
    # Given rules for a custom model that names "car", "animal" and "package"
    custom = DetectionRules(
        classes=frozenset({"car", "animal", "package"}), coco_groups=False
    )

    # When one frame shows each of them, and a class not chosen
    found = _found(custom, "car", "animal", "package", "fall")

    # Then each chosen one is reported as it is named, the other not at all
    assert found == ["animal", "car", "package"]


def test_coco_models_still_report_groups() -> None:
    """For a COCO model, a car counts as a vehicle and a backpack as itself."""
    # Given the rules of a COCO model watching vehicles and backpacks
    coco = DetectionRules(classes=frozenset({"vehicle", "backpack", "person"}))

    # When a frame shows a car, a backpack and a dog
    found = _found(coco, "car", "backpack", "dog")

    # Then the car is a vehicle, the backpack itself, the dog not chosen
    assert found == ["backpack", "vehicle"]


def test_the_classes_offered_follow_the_model() -> None:
    """COCO models offer the groups and COCO's other classes; others their own."""
    # Given no names (COCO), COCO's names in order, and a custom model's names
    coco = offered_classes([])

    # When the offered classes are read
    custom = offered_classes(["package", "fall", "package"])

    # Then COCO offers groups first, never a group's member; custom its names
    assert coco[:3] == ["person", "vehicle", "animal"]
    assert "backpack" in coco
    assert not {"car", "dog"} & set(coco)
    assert custom == ["package", "fall"]
