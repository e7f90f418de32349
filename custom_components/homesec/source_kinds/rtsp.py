"""RTSP cameras: HomeSec watches the stream for motion and records clips."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_PASSWORD, CONF_URL, CONF_USERNAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import BooleanSelector, TextSelector
import probatio

from ..camera_settings import CameraSettings, live_detection_default
from ..const import (
    CONF_BLUR,
    CONF_LIVE_DETECTION,
    CONF_MAX_RECORDING,
    CONF_MIN_CHANGED_PCT,
    CONF_PIXEL_THRESHOLD,
    CONF_PRE_ROLL,
    CONF_RTSP_TRANSPORT,
    CONF_STOP_DELAY,
    CONF_SUBSTREAM_URL,
    RTSP_PROBE_TIMEOUT,
    SOURCE_RTSP,
)
from ..engine.interfaces import ClipSource
from ..engine.sources.rtsp import RtspSettings, RtspSource
from ..engine.sources.stream import split_credentials, with_credentials
from ..engine.spool import Spool
from ..selectors import PASSWORD, URL, box, choice
from ..source_checks import STREAM_SCHEMES, probe_stream
from .base import CheckContext, SourceKind, defaulted, given

FIELDS = {
    CONF_RTSP_TRANSPORT: "transport",
    CONF_PIXEL_THRESHOLD: "pixel_threshold",
    CONF_MIN_CHANGED_PCT: "min_changed_pct",
    CONF_BLUR: "blur",
    CONF_PRE_ROLL: "pre_roll_s",
    CONF_STOP_DELAY: "stop_delay_s",
    CONF_MAX_RECORDING: "max_recording_s",
}
"""Subentry keys -> settings fields that fall back to the engine's defaults."""


def _schema() -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(CONF_URL): URL,
            probatio.Optional(CONF_SUBSTREAM_URL): URL,
            probatio.Optional(CONF_USERNAME): TextSelector(),
            probatio.Optional(CONF_PASSWORD): PASSWORD,
            defaulted(CONF_RTSP_TRANSPORT, RtspSettings, FIELDS): choice(
                ["tcp", "udp"], CONF_RTSP_TRANSPORT, dropdown=True
            ),
            defaulted(CONF_PIXEL_THRESHOLD, RtspSettings, FIELDS): box(1, 255, 1),
            defaulted(CONF_MIN_CHANGED_PCT, RtspSettings, FIELDS): box(
                0.1, 100, 0.1, "%"
            ),
            defaulted(CONF_BLUR, RtspSettings, FIELDS): box(0, 51, 1, "px"),
            defaulted(CONF_PRE_ROLL, RtspSettings, FIELDS): box(0, 30, 1, "s"),
            defaulted(CONF_STOP_DELAY, RtspSettings, FIELDS): box(1, 300, 1, "s"),
            defaulted(CONF_MAX_RECORDING, RtspSettings, FIELDS): box(5, 3600, 1, "s"),
            probatio.Required(
                CONF_LIVE_DETECTION, default=live_detection_default(SOURCE_RTSP)
            ): BooleanSelector(),
        }
    )


def rtsp_settings(data: Mapping[str, Any]) -> RtspSettings:
    """RTSP settings, with the credentials put into the URLs."""
    user, password = data.get(CONF_USERNAME), data.get(CONF_PASSWORD)
    substream = data.get(CONF_SUBSTREAM_URL)
    values: dict[str, Any] = {
        "url": with_credentials(data[CONF_URL], user, password),
        "motion_url": with_credentials(substream, user, password)
        if substream
        else None,
    }
    return RtspSettings.model_validate(values | given(data, FIELDS))


async def _check(
    hass: HomeAssistant, settings: dict[str, Any], context: CheckContext
) -> dict[str, str]:
    """URLs of a stream scheme, credentials in their own fields, streams open."""
    for key in (CONF_URL, CONF_SUBSTREAM_URL):
        url = (settings.get(key) or "").strip()
        if not url:
            settings.pop(key, None)
            continue
        if not url.lower().startswith(STREAM_SCHEMES):
            return {key: "invalid_url"}
        plain, user, password = split_credentials(url)
        settings[key] = plain  # credentials live in their own fields
        if user and not settings.get(CONF_USERNAME):
            settings[CONF_USERNAME] = user
        if password and not settings.get(CONF_PASSWORD):
            settings[CONF_PASSWORD] = password
    for key in (CONF_URL, CONF_SUBSTREAM_URL):
        if key not in settings:
            continue
        full = with_credentials(
            settings[key], settings.get(CONF_USERNAME), settings.get(CONF_PASSWORD)
        )
        error = await hass.async_add_executor_job(
            probe_stream, full, settings[CONF_RTSP_TRANSPORT], RTSP_PROBE_TIMEOUT
        )
        if error:
            return {"base" if error == "invalid_auth" else key: error}
    return {}


def _build(hass: HomeAssistant, camera: CameraSettings, spool: Spool) -> ClipSource:
    return RtspSource(
        camera.camera_id,
        rtsp_settings(camera.data).model_copy(update={"masks": camera.masks}),
        spool,
        hass.async_add_executor_job,
    )


async def _stream_source(hass: HomeAssistant, camera: CameraSettings) -> str | None:
    """The main stream's URL, credentials included."""
    return rtsp_settings(camera.data).url.get_secret_value()


KIND = SourceKind(
    key=SOURCE_RTSP,
    schema=_schema,
    check=_check,
    build=_build,
    stream_source=_stream_source,
    can_record=True,
    secret_fields=(CONF_PASSWORD,),
)
