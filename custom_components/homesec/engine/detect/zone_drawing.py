"""A picture of a camera's zones and masks over its frame (Pillow, blocking)."""

from __future__ import annotations

from collections.abc import Sequence
import io

from PIL import Image, ImageDraw, UnidentifiedImageError

from .labels import draw_label
from .zones import Polygon, Zone

GREY = (128, 128, 128)
ZONE_COLOR = (255, 214, 10)
MASK_COLOR = (0, 0, 0)
MAX_WIDTH = 960
DEFAULT_SIZE = (640, 360)
"""The frame of a camera without any picture yet (16:9)."""


def frame(jpeg: bytes | None) -> Image.Image:
    """The camera's picture (at most ``MAX_WIDTH`` wide), else a grey frame."""
    if jpeg:
        try:
            with Image.open(io.BytesIO(jpeg)) as opened:
                image = opened.convert("RGB")
        except UnidentifiedImageError, OSError, ValueError:
            image = None
        if image is not None:
            if image.width > MAX_WIDTH:
                height = round(image.height * MAX_WIDTH / image.width)
                image = image.resize((MAX_WIDTH, max(1, height)))
            return image
    return Image.new("RGB", DEFAULT_SIZE, GREY)


def draw_areas(
    jpeg: bytes | None, zones: Sequence[Zone], masks: Sequence[Polygon]
) -> bytes:
    """PNG of the frame with masks darkened and zones outlined and named."""
    image = frame(jpeg).convert("RGBA")
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    line = max(2, width // 240)

    def scaled(polygon: Polygon) -> list[tuple[float, float]]:
        return [(x * (width - 1), y * (height - 1)) for x, y in polygon.points]

    for mask in masks:
        draw.polygon(scaled(mask), fill=(*MASK_COLOR, 170))
    for zone in zones:
        points = scaled(zone.polygon)
        draw.polygon(points, fill=(*ZONE_COLOR, 50))
        draw.line([*points, points[0]], fill=(*ZONE_COLOR, 255), width=line)
        left = min(x for x, _ in points) + line
        top = min(y for _, y in points) + line
        draw_label(
            draw,
            (left, top),
            zone.name,
            height=height,
            fill=(*ZONE_COLOR, 255),
            text_fill=(0, 0, 0, 255),
        )
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="PNG")
    return out.getvalue()
