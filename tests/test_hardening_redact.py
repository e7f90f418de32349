"""Credentials in URLs, DSNs and error texts never reach logs or stored states."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
import logging
from pathlib import Path
import shutil
import socket

import aiohttp
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.engine.detect.remote import (
    RemoteDetector,
    RemoteSettings,
)
from custom_components.homesec.engine.models import Clip, Stage
from custom_components.homesec.engine.pipeline import ClipPipeline, PipelineSettings
from custom_components.homesec.engine.policy import DefaultAlertPolicy, PolicySettings
from custom_components.homesec.engine.redact import (
    REDACTED,
    redact_data,
    redact_text,
    redact_url,
)
from custom_components.homesec.engine.repository import ClipRepository
from custom_components.homesec.engine.retry import RetrySettings
from custom_components.homesec.engine.sources.rtsp import RtspSettings, RtspSource
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)
from custom_components.homesec.engine.storage.local import LocalStorage
from custom_components.homesec.engine.text import describe
from custom_components.homesec.hub_fields import NEW_HUB

from .doubles.detection_server import DetectionServer
from .helpers import start_hub_flow
from .pipeline_parts import no_sleep, run_blocking, spool_clips

SECRET = "s3cr3t-value"

URL_FORMS = [
    pytest.param(f"rtsp://admin:{SECRET}@10.0.0.9:554/main", id="rtsp userinfo"),
    pytest.param(f"rtsp://admin:p/a@{SECRET}@10.0.0.9/main", id="unencoded / and @"),
    pytest.param(f"http://det.lan:5000/v1?token={SECRET}", id="token query"),
    pytest.param(f"https://llm.lan/v1?api_key={SECRET}&x=1", id="api_key query"),
    pytest.param(f"https://llm.lan/v1?x=1&key={SECRET}", id="key query"),
    pytest.param(f"http://det.lan/?access_token={SECRET}#f", id="access_token"),
    pytest.param(f"postgresql://homesec:{SECRET}@db:5432/hs", id="dsn userinfo"),
    pytest.param(f"postgresql://db/hs?user=hs&password={SECRET}", id="dsn password"),
    pytest.param(f"postgresql://hs:{SECRET}@db/hs?sslmode=require", id="dsn ssl"),
]
DSN_FORMS = [
    *URL_FORMS[-3:],
    pytest.param(f"host=db user=hs password={SECRET} dbname=hs", id="libpq"),
    pytest.param(f"host=db password='{SECRET} x' dbname=hs", id="libpq quoted"),
    pytest.param(f"host=db PASSWORD = {SECRET}", id="libpq spaced"),
]


@pytest.mark.parametrize("url", URL_FORMS)
def test_every_url_form_loses_its_credentials(url: str) -> None:
    """User information and credential parameters are hidden; the rest stays."""
    # Given a URL carrying a credential in one of its forms
    # When it is redacted
    redacted = redact_url(url)

    # Then the secret is gone, the host is still there to help the user
    assert SECRET not in redacted
    assert REDACTED in redacted
    assert any(host in redacted for host in ("10.0.0.9", "det.lan", "llm.lan", "db"))


@pytest.mark.parametrize("dsn", DSN_FORMS)
def test_every_dsn_form_loses_its_password(dsn: str) -> None:
    """URL and libpq key=value DSNs lose their passwords."""
    # Given a Postgres DSN
    # When it is redacted
    redacted = redact_text(dsn)

    # Then the password is gone and the host is kept
    assert SECRET not in redacted
    assert "db" in redacted


@pytest.mark.parametrize("url", [*URL_FORMS, *DSN_FORMS])
def test_error_texts_quoting_a_url_lose_its_credentials(url: str) -> None:
    """An exception whose message quotes a URL or DSN is described without it."""
    # Given an error that quotes the URL, as libraries do
    err = ValueError(f"cannot open '{url}': refused")

    # When it is described for a log line or a stored error
    described = describe(err)

    # Then no secret remains, and the reason does
    assert SECRET not in described
    assert described.endswith("refused")


def test_an_aiohttp_error_with_the_request_url_is_described_without_secrets() -> None:
    """aiohttp puts the request URL, query included, into its errors."""
    # Given the error aiohttp raises for an HTTP 500 of a URL with a token
    info = aiohttp.RequestInfo(
        URL(f"http://user:{SECRET}@det.lan/v1/vision/detection?token={SECRET}"),
        "POST",
        headers={},  # type: ignore[arg-type]
    )
    err = aiohttp.ClientResponseError(info, (), status=500, message="boom")

    # When it is described
    described = describe(err)

    # Then the URL is shown without credentials
    assert SECRET not in described
    assert "det.lan" in described


def test_known_secrets_are_hidden_even_url_encoded() -> None:
    """A known password is hidden as typed and URL-encoded, wherever it is."""
    # Given a text with a password (with reserved characters) outside any URL
    password = "p@ss:w/rd"
    text = "login p%40ss%3Aw%2Frd refused; was p@ss:w/rd"

    # When it is redacted knowing the password
    redacted = redact_text(text, (password, None, ""))

    # Then neither form remains
    assert "p@ss" not in redacted
    assert "p%40ss" not in redacted


def test_nested_data_is_redacted_everywhere() -> None:
    """Mappings and lists are walked; only strings change."""
    # Given nested data with URLs in values and lists
    data = {"a": [f"rtsp://u:{SECRET}@h/x", 3], "b": {"c": f"password={SECRET}"}}

    # When it is redacted
    redacted = redact_data(data)

    # Then no secret is left and other values are kept
    assert SECRET not in str(redacted)
    assert redacted["a"][1] == 3


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


async def test_rtsp_failure_is_logged_once_without_token_or_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, socket_enabled: None
) -> None:
    """A stream URL with a password and a token in its query never shows them."""
    # Given an RTSP camera whose URL carries a password and a query token,
    # on a port where nothing listens
    url = f"rtsp://cam:{SECRET}@127.0.0.1:{_closed_port()}/live?token={SECRET}"
    settings = RtspSettings.model_validate(
        {"url": url, "open_timeout_s": 1.0, "reconnect_max_s": 1.0}
    )
    source = RtspSource("porch", settings, Spool(tmp_path / "spool"), run_blocking)
    caplog.set_level(logging.DEBUG)

    async def sink(_: object) -> None:
        return None

    # When it tries to connect, and retries
    await source.start(sink)
    try:
        await _until(lambda: source.problem is not None, timeout=15)
        await asyncio.sleep(2.5)  # a few retries with the same reason
    finally:
        await source.stop()

    # Then the failure is logged once, and neither it nor the problem the hub
    # shows holds a secret
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "127.0.0.1" in errors[0].getMessage()
    assert SECRET not in caplog.text
    assert SECRET not in str(source.problem)


async def test_a_detection_server_url_error_is_logged_and_stored_without_secrets(
    tmp_path: Path,
    motion_clip: Path,
    caplog: pytest.LogCaptureFixture,
    socket_enabled: None,
) -> None:
    """aiohttp quotes an invalid URL whole: neither logs nor the store keep it."""
    # Given a pipeline on a detection server whose URL carries a password and
    # cannot be used (its port is out of range), with a real SQLite store
    url = f"http://det:{SECRET}@127.0.0.1:99999"
    repository = ClipRepository(SQLAlchemyStateStore(sqlite_url(tmp_path / "s.db")))
    spool = Spool(tmp_path / "spool")
    (clip,) = await run_blocking(spool_clips, spool, motion_clip, 1)
    caplog.set_level(logging.DEBUG)
    async with aiohttp.ClientSession() as session:
        pipeline = ClipPipeline(
            storage=LocalStorage(tmp_path / "store", run_blocking),
            detector=RemoteDetector(RemoteSettings(url=url), session, run_blocking),
            analyzer=None,
            policy=DefaultAlertPolicy(PolicySettings()),
            notifiers=[],
            repository=repository,
            settings=PipelineSettings(
                detect_retry=RetrySettings(max_attempts=2, initial_delay=0.01)
            ),
            sleep=no_sleep,
        )

        # When the clip is processed
        await pipeline.process(clip)
    state = await repository.get(clip.clip_id)
    await repository.close()

    # Then the detection failed for the URL's reason, and neither a log line
    # nor the stored state holds the password
    assert state is not None
    error = state.stages[Stage.DETECT].error
    assert error is not None
    assert "127.0.0.1:99999" in error
    assert SECRET not in state.model_dump_json()
    assert SECRET not in caplog.text
    assert "127.0.0.1:99999" in caplog.text


async def test_the_remote_detector_names_its_server_without_credentials(
    detection_server: DetectionServer, red_clip: Path
) -> None:
    """The detector's name, stored with every result, has no credentials."""
    # Given the remote detector on a URL with a login
    url = detection_server.url.replace("http://", f"http://det:{SECRET}@")
    async with aiohttp.ClientSession() as session:
        detector = RemoteDetector(RemoteSettings(url=url), session, run_blocking)

        # When a clip is detected
        result = await detector.detect(
            Clip(
                clip_id="porch_20261124_120000",
                camera_name="porch",
                local_path=red_clip,
                start_ts=datetime.now(UTC),
                source_type="folder",
            )
        )

    # Then the stored model name shows the server, not the password
    assert SECRET not in result.model
    assert "127.0.0.1" in result.model


async def test_server_checks_in_the_forms_log_no_secrets(
    hass: HomeAssistant,
    config_dir: Path,
    caplog: pytest.LogCaptureFixture,
    socket_enabled: None,
) -> None:
    """The detection server's check logs why it failed, without the password."""
    # Given the hub form choosing the remote detector
    caplog.set_level(logging.DEBUG)
    result = await start_hub_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"detector": "remote"}
    )

    # When a server URL with a password that cannot be used is entered
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"remote_url": f"http://det:{SECRET}@127.0.0.1:99999"}
    )

    # Then the form says it cannot connect, and the log says why without it
    assert result["errors"] == {"remote_url": "cannot_connect"}
    assert "127.0.0.1:99999" in caplog.text
    assert SECRET not in caplog.text


async def test_an_analysis_error_returned_by_the_action_has_no_secrets(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path, socket_enabled: None
) -> None:
    """analyze_clip answers the analyzer's error without the server's password."""
    # Given a hub analysing with a model server whose URL carries a password
    # and cannot be used (its port is out of range)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="HomeSec",
        data=NEW_HUB
        | {
            "analyzer": "openai",
            "openai_base_url": f"http://llm:{SECRET}@127.0.0.1:99999/v1",
            "openai_api_key": "sk-test",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    # When a clip is analysed through the action
    clip = config_dir / "clip.mp4"
    await hass.async_add_executor_job(shutil.copyfile, motion_clip, clip)
    answer = await hass.services.async_call(
        DOMAIN,
        "analyze_clip",
        {"file": str(clip)},
        blocking=True,
        return_response=True,
    )

    # Then the answer says the server cannot be reached, without the password
    assert answer is not None
    assert "127.0.0.1:99999" in str(answer["analysis_error"])
    assert SECRET not in str(answer)
