"""The words of an alert, shared by every notification."""

from __future__ import annotations

from homeassistant.util import dt as dt_util

from ..engine.models import Alert


def alert_title(camera: str) -> str:
    """``HomeSec: <camera>``."""
    return f"HomeSec: {camera}"


def alert_message(alert: Alert, camera: str, *, markdown: bool = False) -> str:
    """When, what, why, the risk, and whether the clip stayed local."""
    when = dt_util.as_local(alert.ts).strftime("%H:%M:%S")
    what = alert.summary or ", ".join(alert.detected_classes) or "activity"
    name = f"**{camera}**" if markdown else camera
    lines = [f"{name} at {when}: {what}", f"Why: {alert.notify_reason}."]
    if alert.risk_level is not None:
        lines.append(f"Risk: {alert.risk_level.value}.")
    if alert.upload_failed:
        lines.append("The clip is kept locally (upload failed).")
    return ("\n\n" if markdown else "\n").join(lines)
