"""System health reports the hub's status."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import get_system_health_info

from .helpers import add_camera, setup_hub


async def test_system_health(hass: HomeAssistant, config_dir: Path) -> None:
    """The HomeSec section shows status, stores, detector and cameras."""
    # Given system health and a hub with one camera
    assert await async_setup_component(hass, "system_health", {})
    entry = await setup_hub(hass)
    (config_dir / "drop").mkdir()
    await add_camera(hass, entry, config_dir / "drop")

    # When the HomeSec section is read
    info = await get_system_health_info(hass, "homesec")

    # Then it describes the hub
    assert info == {
        "status": "healthy",
        "state_store": "ok",
        "storage": "ok",
        "detector": "MotionDetector",
        "cameras": 1,
        "clips_in_flight": 0,
    }


async def test_system_health_without_a_hub(hass: HomeAssistant) -> None:
    """Before the hub is added, the section says so."""
    # Given system health and HomeSec loaded without a hub
    assert await async_setup_component(hass, "system_health", {})
    assert await async_setup_component(hass, "homesec", {})

    # When the HomeSec section is read, then it says there is no hub
    assert await get_system_health_info(hass, "homesec") == {"status": "not set up"}
