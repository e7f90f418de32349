"""Diagnostics show the hub's state and no secret."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.hub_fields import NEW_HUB

SECRETS = {
    "openai_api_key": "sk-very-secret-key",
    "remote_api_key": "remote-secret",
    "dropbox_refresh_token": "dropbox-refresh-secret",
    "dropbox_app_secret": "dropbox-app-secret",
    "dropbox_access_token": "dropbox-access-secret",
}


async def _hub_with_porch(
    hass: HomeAssistant, hub: dict[str, Any], rtsp: dict[str, Any]
) -> MockConfigEntry:
    """A loaded hub with ``hub`` data and a disabled RTSP camera (nothing connects)."""
    camera = ConfigSubentryData(
        subentry_type="camera",
        title="Porch",
        unique_id="porch",
        data={"camera_id": "porch", "source_type": "rtsp", "enabled": False} | rtsp,
    )
    entry = MockConfigEntry(
        domain=DOMAIN, title="HomeSec", data=NEW_HUB | hub, subentries_data=[camera]
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, "diagnostics", {})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_diagnostics_redact_secrets(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, config_dir: Path
) -> None:
    """Every credential is redacted, including a DSN's password."""
    # Given a hub whose data holds keys, tokens and a Postgres password
    # And an RTSP camera (disabled: nothing connects) with a login
    entry = await _hub_with_porch(
        hass,
        SECRETS
        | {"postgres_dsn": "postgresql://homesec:pg-secret@db.local:5432/homesec"},
        {
            "url": "rtsp://admin:url-secret@10.0.0.9:554/main",
            "substream_url": "rtsp://admin:sub-secret@10.0.0.9:554/sub",
            "username": "admin",
            "password": "rtsp-secret",
        },
    )

    # When its diagnostics are downloaded
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    # Then they describe the hub and contain no secret
    text = json.dumps(diagnostics)
    for secret in [
        *SECRETS.values(),
        *("pg-secret", "rtsp-secret", "url-secret", "sub-secret"),
    ]:
        assert secret not in text
    assert diagnostics["entry"]["openai_api_key"] == "**REDACTED**"
    assert diagnostics["entry"]["postgres_dsn"] == (
        "postgresql://**REDACTED**@db.local:5432/homesec"
    )
    assert diagnostics["health"]["status"] == "healthy"
    assert diagnostics["credentials_refused"] == []
    assert diagnostics["detector"] == "MotionDetector"
    porch = diagnostics["cameras"][0]["data"]
    assert porch["url"] == "rtsp://**REDACTED**@10.0.0.9:554/main"
    assert porch["substream_url"] == "rtsp://**REDACTED**@10.0.0.9:554/sub"
    assert diagnostics["entry"]["dropbox_access_token"] == "**REDACTED**"
    assert porch["password"] == "**REDACTED**"


URL_FIELDS = {
    "remote_url": "http://det:det-secret@10.0.0.2:5000/?token=det-token",
    "openai_base_url": "https://llm.lan/v1?api_key=llm-key&key=llm-key2",
}
DSN_FORMS = [
    "postgresql://homesec:pg-secret@db.local/homesec",
    "postgresql://db.local/homesec?user=homesec&password=pg-secret",
    "host=db.local user=homesec password=pg-secret dbname=homesec",
    "host=db.local password='pg-secret' dbname=homesec",
]


@pytest.mark.parametrize("dsn", DSN_FORMS)
async def test_diagnostics_redact_every_url_and_dsn_form(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, config_dir: Path, dsn: str
) -> None:
    """Detection and model server URLs, and DSNs in any form, lose their secrets."""
    # Given a hub whose server URLs carry credentials and tokens, and a DSN
    # And an RTSP camera whose URL carries a token in its query
    entry = await _hub_with_porch(
        hass,
        URL_FIELDS | {"postgres_dsn": dsn},
        {"url": "rtsp://10.0.0.9:554/main?access_token=cam-token"},
    )

    # When its diagnostics are downloaded
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    # Then no secret is in them, and the hosts still are
    text = json.dumps(diagnostics)
    for secret in ("det-secret", "det-token", "llm-key", "pg-secret", "cam-token"):
        assert secret not in text
    assert "10.0.0.2:5000" in diagnostics["entry"]["remote_url"]
    assert "db.local" in diagnostics["entry"]["postgres_dsn"]
