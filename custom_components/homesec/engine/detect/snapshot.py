"""Annotated JPEG snapshots of the best detection frame (Pillow)."""

from __future__ import annotations

from collections.abc import Sequence
import io

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from ..models import Detection
from .labels import draw_label

COLORS = {"person": "#ff3b30", "vehicle": "#0a84ff", "animal": "#30d158"}


def annotate(
    rgb: NDArray[np.uint8],
    detections: Sequence[Detection],
    group: dict[str, str] | None = None,
    quality: int = 85,
    *,
    scores: bool = True,
) -> bytes:
    """Draw each detection's box and label on the frame; return JPEG bytes.

    Without ``scores`` a label is the class alone: a motion box's score is how
    much changed, which a reader would take for how sure the detector is.
    """
    image = Image.fromarray(rgb, mode="RGB")
    draw = ImageDraw.Draw(image)
    width, height = image.size
    line = max(2, width // 320)
    for det in detections:
        color = COLORS.get((group or {}).get(det.label, det.label), "#ffd60a")
        box = (
            det.box.x1 * width,
            det.box.y1 * height,
            det.box.x2 * width,
            det.box.y2 * height,
        )
        draw.rectangle(box, outline=color, width=line)
        draw_label(
            draw,
            (box[0], box[1]),
            f"{det.label} {det.confidence:.0%}" if scores else det.label,
            height=height,
            fill=color,
            text_fill="white",
            above=True,
        )
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()
