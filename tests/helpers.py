"""Helpers that drive HomeSec through Home Assistant's real flows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
import time
from typing import Any

import aiohttp
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN, EVENT_ALERT, SUBENTRY_CAMERA


async def start_hub_flow(
    hass: HomeAssistant, storage: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Walk the hub flow on local storage and SQLite up to the detector step."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["step_id"] == "user"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "local"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], storage or {}
    )
    assert result["step_id"] == "detector", result.get("errors")
    return dict(result)


async def finish_hub_flow(
    hass: HomeAssistant, result: Any, alerts: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Submit the alerts step (defaults unless given) and wait for the setup."""
    assert result["step_id"] == "alerts", result.get("errors")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], alerts or {}
    )
    await hass.async_block_till_done()
    return dict(result)


async def setup_hub(hass: HomeAssistant) -> ConfigEntry:
    """Create the hub through the config flow and wait until it is loaded."""
    result = await start_hub_flow(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"detector": "motion"}
        )
    )
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"analyzer": "none"}
        )
    )
    result = await finish_hub_flow(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


async def add_camera(
    hass: HomeAssistant,
    entry: ConfigEntry,
    folder: Path,
    *,
    name: str = "Front door",
    settle_seconds: float = 1,
    notify_on_motion: bool = True,
) -> dict[str, Any]:
    """Add a folder camera through the subentry flow; return the flow result."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "name": name,
            "source_type": "folder",
            "notify_on_motion": "on" if notify_on_motion else "off",
        },
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {"watch_folder": str(folder), "settle_seconds": settle_seconds},
    )
    await hass.async_block_till_done()
    return dict(result)


PERSON_RULES = {"detect_classes": ["person"], "min_confidence": 0.5, "min_hits": 1,
                "min_box_h_ratio": 0.0}  # fmt: skip


async def setup_onnx_hub(hass: HomeAssistant, model: Path, **rules: Any) -> ConfigEntry:
    """A hub detecting people with the ONNX ``model`` (``rules`` over
    ``PERSON_RULES``), without an analyzer."""
    result = await start_hub_flow(hass)
    for step in (
        {"detector": "onnx"},
        {"model_path": str(model)},
        {**PERSON_RULES, **rules},
        {"analyzer": "none"},
    ):
        result = dict(
            await hass.config_entries.flow.async_configure(result["flow_id"], step)
        )
    result = await finish_hub_flow(hass, result)
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


async def setup_openai_hub(
    hass: HomeAssistant,
    model: Path,
    server_url: str,
    alerts: dict[str, Any] | None = None,
    **openai: Any,
) -> ConfigEntry:
    """A hub detecting people with ``model`` and summarizing with the server."""
    result = await start_hub_flow(hass)
    for step in (
        {"detector": "onnx"},
        {"model_path": str(model)},
        PERSON_RULES,
        {"analyzer": "openai"},
        {"openai_base_url": server_url, "openai_api_key": "sk-test",
         "openai_model": "gpt-4o-mini", **openai},
    ):  # fmt: skip
        result = dict(
            await hass.config_entries.flow.async_configure(result["flow_id"], step)
        )
    result = await finish_hub_flow(hass, result, alerts)
    entry = result["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


async def set_options(hass: HomeAssistant, entry: ConfigEntry, **options: Any) -> None:
    """Change the hub's options through its options flow and wait for the reload."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(result["flow_id"], options)
    await hass.async_block_till_done()


@dataclass(frozen=True)
class FolderHub:
    """A loaded hub with one folder camera, as the ``folder_hub`` fixture makes it."""

    entry: ConfigEntry
    folder: Path


async def setup_folder_camera(
    hass: HomeAssistant, config_dir: Path, name: str = "Front door"
) -> tuple[ConfigEntry, Path]:
    """A hub with one folder camera; return the hub and the camera's folder."""
    entry = await setup_hub(hass)
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, name=name)
    return entry, drop


async def alert_for_clip(
    hass: HomeAssistant, entry: ConfigEntry, folder: Path, clip: Path
) -> Event:
    """Add a folder camera, drop ``clip`` into its folder; return its one alert
    once the pipeline is idle again."""
    folder.mkdir()
    await add_camera(hass, entry, folder, settle_seconds=1)
    alerts = async_capture_events(hass, EVENT_ALERT)
    (folder / "clip.mp4").write_bytes(clip.read_bytes())
    await wait_for(lambda: len(alerts) == 1, what="an alert")
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    return alerts[0]


async def wait_for(
    condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition"
) -> None:
    """Let the loop run until ``condition()`` holds, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def upload(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, path: Path
) -> str:
    """Upload ``path`` through Home Assistant's file upload endpoint.

    HomeSec registers its own views first: the client freezes the routes.
    """
    assert await async_setup_component(hass, DOMAIN, {})
    assert await async_setup_component(hass, "file_upload", {})
    form = aiohttp.FormData()
    form.add_field("file", path.read_bytes(), filename=path.name)
    response = await (await hass_client()).post("/api/file_upload", data=form)
    assert response.status == 200
    file_id: str = (await response.json())["file_id"]
    return file_id
