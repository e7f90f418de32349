"""System health reports the hub's status."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import get_system_health_info

from .helpers import add_camera, setup_hub, setup_onnx_hub


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
        "detector": "motion",
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


async def test_system_health_names_the_detector_in_use(
    hass: HomeAssistant, config_dir: Path, red_model: Path
) -> None:
    """The detector by its setting's name; motion standing in for a lost model."""
    # Given system health and an ONNX hub whose model is then removed
    assert await async_setup_component(hass, "system_health", {})
    model = config_dir / "person.onnx"
    await hass.async_add_executor_job(model.write_bytes, red_model.read_bytes())
    entry = await setup_onnx_hub(hass, model)
    running = (await get_system_health_info(hass, "homesec"))["detector"]
    await hass.async_add_executor_job(model.unlink)

    # When the hub is reloaded without its model
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    fallback = (await get_system_health_info(hass, "homesec"))["detector"]

    # Then the section names the model's detector, then motion in its place
    assert (running, fallback) == ("onnx", "motion (instead of onnx)")
