"""The instructions sent with the frames."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import FilterResult

BASE_PROMPT = (
    "You review frames from a home security camera clip, in time order. Describe "
    "what happens in one or two plain sentences for the homeowner's phone, rate "
    "the risk (low: nothing of concern; medium: unusual but likely harmless; high: "
    "possible threat, such as someone trying doors or taking things; critical: an "
    "obvious break-in or danger), pick the activity type, list your observations "
    "and a short timeline of who or what did what. Set requires_review when the "
    "homeowner should look at the clip. Do not guess identities."
)


def instructions(
    camera_title: str,
    context: str | None,
    detections: FilterResult,
    activity_types: Sequence[str],
    base_prompt: str = BASE_PROMPT,
) -> str:
    """The base prompt, the camera's context and what detection found."""
    lines = [base_prompt.strip(), f"Camera: {camera_title}."]
    if context:
        lines.append(f"About this camera: {context.strip()}")
    if detections.detected_classes:
        found = ", ".join(detections.detected_classes)
        lines.append(f"Object detection found: {found}.")
    lines.append("Activity types: " + ", ".join(activity_types) + ".")
    return "\n".join(lines)
