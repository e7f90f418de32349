"""The hub's storage and state store steps, reconfigure and reauthentication."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.entity_component import async_update_entity
import homeassistant.util.dt as dt_util

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.engine.storage.dropbox import DropboxStorage

from .doubles.dropbox_api import DropboxDouble
from .doubles.openai_server import OpenAIServer
from .helpers import add_camera, finish_hub_flow, start_hub_flow, wait_for
from .servers import free_port

DROPBOX = {"dropbox_root": "/Cams"}


def credentials(double: DropboxDouble, **change: str) -> dict[str, str]:
    """The double's app and refresh token, with ``change`` applied."""
    return {
        **DROPBOX,
        "dropbox_app_key": double.state.app_key,
        "dropbox_app_secret": double.state.app_secret,
        "dropbox_refresh_token": double.state.refresh_token,
        **change,
    }


def suggested(result: Any) -> dict[str, Any]:
    """The values a form shows filled in."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def fields(result: Any) -> set[str]:
    """The field names of a form."""
    return {str(key) for key in result["data_schema"].schema}


async def hub_states(hass: HomeAssistant) -> dict[str, str]:
    """The hub's connectivity sensors and status, refreshed now."""
    ids = {
        "storage": "binary_sensor.homesec_storage",
        "state_store": "binary_sensor.homesec_state_store",
        "status": "sensor.homesec_status",
    }
    for entity_id in ids.values():
        await async_update_entity(hass, entity_id)
    return {key: hass.states.get(entity_id).state for key, entity_id in ids.items()}


async def reconfigure(hass: HomeAssistant, entry: ConfigEntry) -> Any:
    """Start reconfiguring the hub."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )


async def configure(hass: HomeAssistant, result: Any, data: dict[str, Any]) -> Any:
    """Submit one step of the hub flow."""
    return await hass.config_entries.flow.async_configure(result["flow_id"], data)


async def to_the_end(hass: HomeAssistant, result: Any) -> Any:
    """Motion detection, no analyzer, default alerts."""
    result = await configure(hass, result, {"detector": "motion"})
    result = await configure(hass, result, {"analyzer": "none"})
    return await finish_hub_flow(hass, result)


async def test_local_storage_folder_must_be_writable(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A folder HomeSec cannot create is refused; a mounted share path is kept."""
    # Given the local storage step
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await configure(hass, result, {"storage_type": "local"})
    assert result["step_id"] == "local"
    (config_dir / "a_file").write_text("not a folder")

    # When a path under a file, then an absolute folder, are submitted
    bad = await configure(hass, result, {"storage_path": "a_file/clips"})
    good = await configure(
        hass, result, {"storage_path": str(config_dir.parent / "share")}
    )

    # Then the first is refused on its field and the second leads on
    assert bad["errors"] == {"storage_path": "folder_not_writable"}
    assert good["step_id"] == "detector"
    assert (config_dir.parent / "share").is_dir()


async def test_dropbox_storage_is_checked_and_stores_clips(
    hass: HomeAssistant,
    config_dir: Path,
    dropbox_api: DropboxDouble,
    motion_clip: Path,
) -> None:
    """Refused credentials are named; good ones store clips in Dropbox."""
    # Given the Dropbox step
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await configure(hass, result, {"storage_type": "dropbox"})
    assert result["step_id"] == "dropbox"

    # When a wrong refresh token, then the right one, are submitted
    wrong = await configure(
        hass, result, credentials(dropbox_api, dropbox_refresh_token="stale")
    )
    right = await configure(hass, result, credentials(dropbox_api))
    done = await to_the_end(hass, right)

    # Then the token field is refused, and the hub stores on Dropbox
    assert wrong["errors"] == {"dropbox_refresh_token": "invalid_auth"}
    assert suggested(wrong)["dropbox_app_key"] == dropbox_api.state.app_key
    assert "dropbox_refresh_token" not in suggested(wrong)
    assert done["type"] is FlowResultType.CREATE_ENTRY
    entry: ConfigEntry = done["result"]
    assert isinstance(entry.runtime_data.engine.storage, DropboxStorage)
    assert entry.runtime_data.health.storage_reachable

    # When a clip arrives at a camera
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop)
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())

    # Then it is uploaded under the chosen folder
    await wait_for(lambda: bool(dropbox_api.state.files), what="an upload")
    assert next(iter(dropbox_api.state.files)).startswith("/cams/front_door/")


async def test_postgres_state_store_is_checked(
    hass: HomeAssistant, config_dir: Path, postgres_dsn: str
) -> None:
    """Bad URLs, refused users and closed ports are named; a database is used."""
    # Given the Postgres step
    result = await start_hub_flow_with(hass, {"state_store": "postgres"})
    assert result["step_id"] == "postgres"
    host = postgres_dsn.split("@", 1)[1].rsplit("/", 1)[0]
    name = postgres_dsn.rsplit("/", 1)[1]

    # When a wrong scheme, an unknown user, a closed port, then the database
    cases = {
        "mysql://root@127.0.0.1/homesec": "invalid_dsn",
        "postgresql://postgres@127.0.0.1:port/homesec": "invalid_dsn",
        f"postgresql://nobody@{host}/{name}": "invalid_auth",
        f"postgresql://postgres@127.0.0.1:{free_port()}/{name}": "cannot_connect",
    }
    errors = {}
    for dsn, error in cases.items():
        answer = await configure(hass, result, {"postgres_dsn": dsn})
        errors[dsn] = answer["errors"].get("postgres_dsn")
        assert error == errors[dsn]
    plain = "postgresql://" + postgres_dsn.split("://", 1)[1]
    result = await configure(hass, result, {"postgres_dsn": plain})
    done = await to_the_end(hass, result)

    # Then each error is on the field, and the hub writes its history there
    assert done["type"] is FlowResultType.CREATE_ENTRY
    hub = done["result"].runtime_data
    assert hub.engine.repository.healthy
    assert await hub.engine.repository.get_many(["nothing"]) == {}  # None: down


async def start_hub_flow_with(hass: HomeAssistant, choices: dict[str, Any]) -> Any:
    """The user step with ``choices``, then local storage on defaults."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await configure(hass, result, choices)
    return await configure(hass, result, {})


async def test_reconfigure_keeps_secrets_and_reloads(
    hass: HomeAssistant, config_dir: Path, dropbox_api: DropboxDouble
) -> None:
    """Reconfigure walks the steps from the current values; empty secrets stay."""
    # Given a hub on defaults
    result = await start_hub_flow(hass)
    entry: ConfigEntry = (await to_the_end(hass, result))["result"]

    # When it is reconfigured to Dropbox, with the server down at first
    result = await reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"storage_type": "dropbox", "state_store": "sqlite"}
    )
    assert result["step_id"] == "dropbox"  # no secret stored yet: asked as new
    result = await configure(hass, result, credentials(dropbox_api))
    assert result["step_id"] == "detector"
    result = await configure(hass, result, {"detector": "motion"})
    done = await configure(hass, result, {"analyzer": "none"})
    await hass.async_block_till_done()

    # Then the hub is saved and reloaded on Dropbox, alerts untouched
    assert done["type"] is FlowResultType.ABORT
    assert done["reason"] == "reconfigure_successful"
    assert entry.data["storage_type"] == "dropbox"
    assert entry.data["min_risk_level"] == "high"
    assert isinstance(entry.runtime_data.engine.storage, DropboxStorage)

    # When it is reconfigured again leaving the token empty, with Dropbox down
    result = await reconfigure(hass, entry)
    result = await configure(
        hass, result, {"storage_type": "dropbox", "state_store": "sqlite"}
    )
    assert result["step_id"] == "reconfigure_dropbox"  # says empty keeps them
    keep = {k: v for k, v in credentials(dropbox_api).items() if "token" not in k}
    dropbox_api.stop()
    down = await configure(hass, result, keep)

    # Then the stored token is neither asked for again nor shown
    assert down["errors"] == {"base": "cannot_connect"}
    assert "dropbox_refresh_token" not in suggested(down)
    assert suggested(down)["dropbox_root"] == "/Cams"


async def test_refused_api_key_asks_for_a_new_one(
    hass: HomeAssistant,
    config_dir: Path,
    openai_server: OpenAIServer,
    red_model: Path,
    red_clip: Path,
) -> None:
    """When the model server refuses the key, a reauth flow takes a new one."""
    # Given a hub analysing with a key the server knows
    result = await start_hub_flow(hass)
    result = await configure(hass, result, {"detector": "onnx"})
    result = await configure(hass, result, {"model_path": str(red_model)})
    result = await configure(
        hass,
        result,
        {"detect_classes": ["person"], "min_confidence": 0.5, "min_hits": 1,
         "min_box_h_ratio": 0.0},
    )  # fmt: skip
    result = await configure(hass, result, {"analyzer": "openai"})
    result = await configure(
        hass,
        result,
        {"openai_base_url": openai_server.url, "openai_api_key": "sk-test",
         "openai_model": "gpt-4o-mini", "max_frames": 2},
    )  # fmt: skip
    entry: ConfigEntry = (await finish_hub_flow(hass, result))["result"]
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop)
    options = await hass.config_entries.options.async_init(entry.entry_id)
    assert {"min_confidence", "daily_calls", "notify_services"} <= fields(options)

    # When the server's key changes and a person clip arrives
    openai_server.api_key = "sk-new"
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(
        lambda: bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN)),
        what="a reauth flow",
    )

    # Then Home Assistant asks for new credentials, naming the service
    flow = hass.config_entries.flow.async_progress_by_handler(DOMAIN)[0]
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert set(entry.runtime_data.health.refusals.services) == {"openai"}
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["services"] == "openai"
    assert fields(result) == {"openai_api_key"}

    # When a wrong key, then the new one, are entered
    wrong = await configure(hass, result, {"openai_api_key": "sk-test"})
    done = await configure(hass, result, {"openai_api_key": "sk-new"})
    await hass.async_block_till_done()

    # Then the wrong one is refused, and the new one saved and used
    assert wrong["errors"] == {"openai_api_key": "invalid_auth"}
    assert done["type"] is FlowResultType.ABORT
    assert done["reason"] == "reauth_successful"
    assert entry.data["openai_api_key"] == "sk-new"
    assert entry.runtime_data.health.refusals.services == []


async def test_refused_dropbox_and_postgres_start_reauth(
    hass: HomeAssistant,
    config_dir: Path,
    dropbox_api: DropboxDouble,
    postgres_dsn: str,
) -> None:
    """Storage and state store refusals at start lead to one reauth flow."""
    # Given a hub on Dropbox and Postgres
    result = await start_hub_flow_with_dropbox_and_postgres(
        hass, dropbox_api, postgres_dsn
    )
    entry: ConfigEntry = (await to_the_end(hass, result))["result"]
    assert entry.runtime_data.engine.repository.healthy

    # When Dropbox revokes the token and the database user is gone
    dropbox_api.state.refresh_token = "rotated"
    dropbox_api.state.access_tokens.clear()
    host_and_db = postgres_dsn.split("@", 1)[1]
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "postgres_dsn": f"postgresql://gone@{host_and_db}"}
    )
    await hass.async_block_till_done()
    hub = entry.runtime_data
    hub.health.check(dt_util.utcnow())
    await hass.async_block_till_done()

    # Then one reauth flow asks for both services' credentials
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert set(hub.health.refusals.services) == {"dropbox", "postgres"}
    assert not hub.health.storage_reachable
    hub = await hub_states(hass)
    assert hub == {"storage": "off", "state_store": "off", "status": "degraded"}
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
    assert result["description_placeholders"]["services"] == "dropbox, postgres"
    assert fields(result) == {
        "dropbox_app_key",
        "dropbox_app_secret",
        "dropbox_refresh_token",
        "postgres_dsn",
    }

    # When the new token and the right URL are entered
    done = await configure(
        hass, result, {"dropbox_refresh_token": "rotated", "postgres_dsn": postgres_dsn}
    )
    await hass.async_block_till_done()

    # Then they are saved and the hub runs again on both
    assert done["reason"] == "reauth_successful"
    assert entry.data["dropbox_refresh_token"] == "rotated"
    assert entry.runtime_data.health.storage_reachable
    assert entry.runtime_data.engine.repository.healthy
    assert entry.runtime_data.health.refusals.services == []
    assert await hub_states(hass) == {
        "storage": "on",
        "state_store": "on",
        "status": "healthy",
    }


async def start_hub_flow_with_dropbox_and_postgres(
    hass: HomeAssistant, double: DropboxDouble, dsn: str
) -> Any:
    """User, Dropbox and Postgres steps; return the detector step."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await configure(
        hass, result, {"storage_type": "dropbox", "state_store": "postgres"}
    )
    result = await configure(hass, result, credentials(double))
    result = await configure(hass, result, {"postgres_dsn": dsn})
    assert result["step_id"] == "detector"
    return result
