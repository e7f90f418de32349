"""Clips kept only in Dropbox play inside Home Assistant through temporary links."""

from __future__ import annotations

import asyncio
from pathlib import Path

from homeassistant.components import media_source
from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.engine.models import ClipStatus

from .doubles.dropbox_api import TEMPORARY_LINK_HOST, DropboxDouble
from .helpers import add_camera, finish_hub_flow, wait_for


async def dropbox_hub(hass: HomeAssistant, double: DropboxDouble) -> ConfigEntry:
    """A hub storing clips in Dropbox (the double), motion only."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    for step in (
        {"storage_type": "dropbox"},
        {"dropbox_root": "/HomeSec", "dropbox_app_key": double.state.app_key,
         "dropbox_app_secret": double.state.app_secret,
         "dropbox_refresh_token": double.state.refresh_token},
        {"detector": "motion"},
        {"analyzer": "none"},
    ):  # fmt: skip
        result = await hass.config_entries.flow.async_configure(result["flow_id"], step)
    done = await finish_hub_flow(hass, result)
    entry = done["result"]
    assert isinstance(entry, ConfigEntry)
    return entry


async def test_a_dropbox_clip_plays_from_a_temporary_link(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    config_dir: Path,
    dropbox_api: DropboxDouble,
    motion_clip: Path,
) -> None:
    """The library and the clip link play the file itself, not Dropbox's page."""
    # Given a Dropbox hub whose camera's clip was stored and left the spool
    assert await async_setup_component(hass, "media_source", {})
    entry = await dropbox_hub(hass, dropbox_api)
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop)
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: bool(dropbox_api.state.files), what="an upload")
    repository = entry.runtime_data.engine.repository
    clip_id = (await repository.clip_ids("front_door") or [""])[0]
    for _ in range(300):
        state = await repository.get(clip_id)
        if state is not None and state.status is ClipStatus.DONE:
            break
        await asyncio.sleep(0.1)
    spool = entry.runtime_data.engine.spool.root
    await hass.async_add_executor_job(
        lambda: [p.unlink() for p in spool.rglob("*.mp4")]
    )

    # When the clip is played from the library and opened from its link
    played = await media_source.async_resolve_media(
        hass, f"media-source://{DOMAIN}/clip/{clip_id}", None
    )
    view = await (await hass_client()).get(
        f"/api/homesec/clips/{clip_id}", allow_redirects=False
    )

    # Then both go to Dropbox's temporary link of the video
    assert played.url.startswith(f"https://{TEMPORARY_LINK_HOST}/")
    assert played.mime_type == "video/mp4"
    assert view.status == 302
    assert view.headers["Location"] == played.url

    # When Dropbox cannot give a link, then the clip opens on Dropbox's page
    dropbox_api.state.fail_routes.add("/2/files/get_temporary_link")
    fallback = await media_source.async_resolve_media(
        hass, f"media-source://{DOMAIN}/clip/{clip_id}", None
    )
    assert fallback.url.startswith("https://www.dropbox.com/home/HomeSec/")
    assert fallback.mime_type == "text/html"
