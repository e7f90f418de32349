"""Links in notifications: signed with HomeSec's own key, valid across restarts,
bound to their clip and expiry, refused when expired or forged."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from homeassistant import loader
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, ServiceCall
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
    async_test_home_assistant,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.links import LinkSigner, clip_path, snapshot_path

from .helpers import add_camera, set_options, setup_onnx_hub, wait_for


async def mailed_links(
    hass: HomeAssistant, config_dir: Path, model: Path, clip: Path
) -> tuple[ConfigEntry, str, str, list[ServiceCall]]:
    """A person clip mailed out; the hub, the clip id and its two links."""
    email = async_mock_service(hass, "notify", "email")
    entry = await setup_onnx_hub(hass, model)
    await set_options(hass, entry, notify_services=["notify.email"])
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop)
    (drop / "clip.mp4").write_bytes(clip.read_bytes())
    await wait_for(lambda: bool(email), what="the mail")
    pipeline = entry.runtime_data.engine.pipeline
    await wait_for(lambda: pipeline.in_flight == 0, what="the pipeline idle")
    await hass.async_block_till_done()
    lines = str(email[0].data["message"]).split("\n")
    clip_link = next(x for x in lines if x.startswith("Clip: ")).removeprefix("Clip: ")
    snapshot_link = next(x for x in lines if x.startswith("Snapshot: ")).removeprefix(
        "Snapshot: "
    )
    return entry, local(clip_link), local(snapshot_link), email


def local(link: str) -> str:
    """A link's path and query (what the test client asks for)."""
    url = urlsplit(link)
    return f"{url.path}?{url.query}"


async def test_links_stay_valid_after_a_restart(
    hass: HomeAssistant,
    aiohttp_client: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """A link mailed before Home Assistant restarts still opens the clip after."""
    # Given a person clip whose links were mailed
    entry, clip_link, snapshot_link, _ = await mailed_links(
        hass, config_dir, red_model, red_clip
    )
    saved = {
        "domain": DOMAIN,
        "entry_id": entry.entry_id,
        "title": entry.title,
        "data": dict(entry.data),
        "options": dict(entry.options),
        "subentries_data": [
            {
                "data": dict(sub.data),
                "subentry_id": sub.subentry_id,
                "subentry_type": sub.subentry_type,
                "title": sub.title,
                "unique_id": sub.unique_id,
            }
            for sub in entry.subentries.values()
        ],
    }

    # When Home Assistant stops, and a new Home Assistant starts on the same
    # configuration directory and storage
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_stop()
    async with async_test_home_assistant(config_dir=str(config_dir)) as restarted:
        restarted.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # finds HomeSec
        MockConfigEntry(**saved).add_to_hass(restarted)
        assert await restarted.config_entries.async_setup(entry.entry_id)
        await restarted.async_block_till_done()
        anonymous = await aiohttp_client(restarted.http.app)
        clip = await anonymous.get(clip_link)
        clip_bytes = await clip.read()
        snapshot = await anonymous.get(snapshot_link)
        await restarted.config_entries.async_unload(entry.entry_id)
        await restarted.async_stop()

    # Then both links still open without a login
    assert clip.status == 200
    assert clip_bytes == red_clip.read_bytes()
    assert snapshot.status == 200
    assert snapshot.content_type == "image/jpeg"
    assert f"{DOMAIN}.{entry.entry_id}.links" in hass_storage


async def test_expired_forged_and_borrowed_signatures_are_refused(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """Only a signature of this very path, unexpired and unaltered, opens a file."""
    # Given a mailed clip link, and the hub's own signer
    entry, clip_link, snapshot_link, _ = await mailed_links(
        hass, config_dir, red_model, red_clip
    )
    clip_url = urlsplit(clip_link)
    clip_id = clip_url.path.rsplit("/", 1)[-1]
    query = {k: v[0] for k, v in parse_qs(clip_url.query).items()}
    signer: LinkSigner = entry.runtime_data.links
    forged = query["sig"][:-1] + ("0" if query["sig"][-1] != "0" else "1")
    other_clip = "front_door_20200101_000000"
    later = int(query["expires"]) + 3600
    anonymous = await hass_client_no_auth()
    user = await hass_client()

    async def status(url: str, client: Any = anonymous) -> int:
        return int((await client.get(url)).status)

    # When the files are asked for with each kind of link
    answers = {
        "signed": await status(clip_link),
        "no signature": await status(clip_path(clip_id)),
        "expired": await status(signer.sign(clip_path(clip_id), timedelta(seconds=-1))),
        "forged": await status(
            f"{clip_url.path}?expires={query['expires']}&sig={forged}"
        ),
        "later expiry": await status(
            f"{clip_url.path}?expires={later}&sig={query['sig']}"
        ),
        "other clip": await status(f"{clip_path(other_clip)}?{clip_url.query}"),
        "snapshot with the clip's": await status(
            f"{snapshot_path(clip_id)}?{clip_url.query}"
        ),
        "bad expiry": await status(f"{clip_url.path}?expires=soon&sig={query['sig']}"),
        "not ascii": await status(
            f"{clip_url.path}?expires={query['expires']}&sig=%C3%A9{query['sig'][2:]}"
        ),
        "another key": await status(LinkSigner(b"x" * 32).sign(clip_path(clip_id))),
        "logged in": await status(clip_path(clip_id), user),
        "snapshot signed": await status(snapshot_link),
    }

    # Then only the untouched links and the logged-in user get the files;
    # a missing signature is unauthorized, a bad one forbidden
    assert answers == {
        "signed": 200,
        "no signature": 401,
        "expired": 403,
        "forged": 403,
        "later expiry": 403,
        "other clip": 403,
        "snapshot with the clip's": 403,
        "bad expiry": 403,
        "not ascii": 403,
        "another key": 403,
        "logged in": 200,
        "snapshot signed": 200,
    }

    # When the hub is removed, then its key goes with it
    key = f"{DOMAIN}.{entry.entry_id}.links"
    assert key in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


async def test_an_unreadable_key_is_replaced(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    hass_client_no_auth: ClientSessionGenerator,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """A damaged key file gives a fresh key: new links work, the hub starts."""
    # Given a hub whose stored link key is damaged before a restart
    entry, clip_link, _, _ = await mailed_links(hass, config_dir, red_model, red_clip)
    key = f"{DOMAIN}.{entry.entry_id}.links"
    old = hass_storage[key]["data"]["key"]
    hass_storage[key]["data"] = {"key": "not hex"}

    # When the hub reloads
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    # Then it has a new key, old links are refused, new ones open
    assert hass_storage[key]["data"]["key"] not in (old, "not hex")
    anonymous = await hass_client_no_auth()
    assert (await anonymous.get(clip_link)).status == 403
    fresh = entry.runtime_data.links.sign(urlsplit(clip_link).path)
    assert (await anonymous.get(fresh)).status == 200
