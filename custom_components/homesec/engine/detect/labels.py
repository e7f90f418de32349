"""Labels drawn on pictures, in a font that scales with the picture (Pillow)."""

from __future__ import annotations

from functools import lru_cache

from PIL import ImageDraw, ImageFont

TEXT_SHARE = 1 / 20
"""A label's text size against the picture's height (36 px at 720p): a phone
or the notification drawer shows the picture about 400 px wide, where this is
still 11 px or more."""
MIN_TEXT = 14
"""The smallest text, for small pictures."""

type Color = str | tuple[int, ...]


@lru_cache(maxsize=8)
def label_font(height: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own font sized for a picture ``height`` pixels high."""
    return ImageFont.load_default(size=max(MIN_TEXT, round(height * TEXT_SHARE)))


def draw_label(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    *,
    height: int,
    fill: Color,
    text_fill: Color,
    above: bool = False,
) -> None:
    """Draw ``text`` on a filled box at ``xy``, its top left corner.

    With ``above`` the box sits on ``xy`` instead (its bottom left corner),
    unless that would leave the picture's top.
    """
    font = label_font(height)
    pad = max(2, height // 240)
    left, top = xy
    _, text_top, right, bottom = draw.textbbox((0, 0), text, font=font)
    box_height = bottom - text_top + 2 * pad
    if above:
        top = max(0.0, top - box_height)
    draw.rectangle((left, top, left + right + 2 * pad, top + box_height), fill=fill)
    draw.text((left + pad, top + pad - text_top), text, fill=text_fill, font=font)
