"""System health: HomeSec's status on Settings > System > Repairs > System info."""

from __future__ import annotations

from typing import Any

from homeassistant.components import system_health
from homeassistant.core import HomeAssistant, callback

from .const import DETECTOR_MOTION, DOMAIN
from .data import HomeSecData
from .engine.detect.motion import MotionDetector


@callback
def async_register(
    hass: HomeAssistant, register: system_health.SystemHealthRegistration
) -> None:
    """Register the HomeSec section."""
    register.async_register_info(system_health_info)


async def system_health_info(hass: HomeAssistant) -> dict[str, Any]:
    """The hub's status, its stores, detector and clips in flight."""
    entries = hass.config_entries.async_loaded_entries(DOMAIN)
    if not entries:
        return {"status": "not set up"}
    hub: HomeSecData = entries[0].runtime_data
    health = hub.health
    return {
        "status": health.health().status.value,
        "state_store": "ok" if health.state_store_reachable else "unreachable",
        "storage": "ok" if health.storage_reachable else "unreachable",
        "detector": _detector(hub),
        "cameras": len(hub.cameras),
        "clips_in_flight": hub.engine.pipeline.in_flight,
    }


def _detector(hub: HomeSecData) -> str:
    """The detector in use by its setting's name (``onnx``, ``remote``...).

    Motion detection standing in for a model that cannot be used says so.
    """
    configured = hub.settings.detector
    if configured != DETECTOR_MOTION and isinstance(
        hub.engine.detector, MotionDetector
    ):
        return f"{DETECTOR_MOTION} (instead of {configured})"
    return configured if hub.health.detector_available else f"{configured} (down)"
