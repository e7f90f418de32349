"""Labels on snapshots and on the zones picture are readable on a phone."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from custom_components.homesec.engine.detect.labels import label_font
from custom_components.homesec.engine.detect.snapshot import annotate
from custom_components.homesec.engine.detect.zone_drawing import (
    ZONE_COLOR,
    draw_areas,
)
from custom_components.homesec.engine.detect.zones import Polygon, Zone
from custom_components.homesec.engine.models import Box, Detection

RED = np.array([255, 59, 48])
"""A person's box colour (``snapshot.COLORS``)."""
YELLOW = np.array([255, 214, 10])
"""The box colour of classes without their own (motion)."""


def _rows_of(pixels: NDArray[np.uint8], column: int, color: NDArray[np.int_]) -> int:
    """How many rows of ``column`` have ``color`` (JPEG colours are close)."""
    distance = np.abs(pixels[:, column, :3].astype(int) - color).sum(axis=1)
    return int((distance < 60).sum())


def test_a_detection_label_is_a_readable_size_above_its_box() -> None:
    # Given a 1280x720 grey frame with a person standing in the middle
    frame = np.full((720, 1280, 3), 90, dtype=np.uint8)
    person = Detection(
        label="person",
        confidence=0.91,
        box=Box(x1=0.4, y1=0.4, x2=0.6, y2=0.9),
        frame_ts=0.0,
    )

    # When the snapshot is annotated
    jpeg = annotate(frame, [person])

    # Then the label over the box is at least 20 px high (text size grows with
    # the picture), sits above the box and holds white text
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    top = round(0.4 * 720)
    label_column = round(0.4 * 1280) + 1
    above = pixels[:top]
    assert _rows_of(above, label_column, RED) >= 20
    label = above[top - 20 : top, label_column : label_column + 120]
    assert (label.min(axis=2) > 200).sum() > 40


def test_a_zone_name_is_a_readable_size_on_the_zones_picture() -> None:
    # Given a zone over a camera's 1280x720 picture (drawn 960x540)
    picture = io.BytesIO()
    Image.new("RGB", (1280, 720), (90, 90, 90)).save(picture, format="JPEG")
    zone = Zone(
        name="driveway",
        polygon=Polygon(points=[(0.1, 0.1), (0.6, 0.1), (0.6, 0.8), (0.1, 0.8)]),
    )

    # When its zones picture is drawn
    png = draw_areas(picture.getvalue(), [zone], [])

    # Then the zone's name sits on a yellow label at least 14 px high (the
    # zone's outline adds 2 rows; Pillow's small default font made 9)
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    left = round(0.1 * 959)
    column = pixels[: round(0.8 * 539), left + 8 : left + 9]
    assert _rows_of(column, 0, np.array(ZONE_COLOR)) >= 16


def test_a_motion_label_has_no_score() -> None:
    """A motion box is labelled "motion" alone: its score is how much changed."""
    # Given a 1280x720 grey frame with a motion box whose change scored 1.0
    frame = np.full((720, 1280, 3), 90, dtype=np.uint8)
    motion = Detection(
        label="motion",
        confidence=1.0,
        box=Box(x1=0.2, y1=0.4, x2=0.8, y2=0.9),
        frame_ts=0.0,
    )

    # When its snapshot is annotated as a motion snapshot is
    jpeg = annotate(frame, [motion], scores=False)

    # Then the label above the box is as wide as "motion" alone, not "motion 100%"
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    row = pixels[round(0.4 * 720) - 3]
    label = np.abs(row.astype(int) - YELLOW).sum(axis=1) < 60
    font = label_font(720)
    assert font.getlength("motion") <= label.sum() < font.getlength("motion 100%")
