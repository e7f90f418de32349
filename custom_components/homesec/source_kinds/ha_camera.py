"""Home Assistant cameras: any camera entity, recorded on a trigger or on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.camera import async_get_image, async_get_stream_source
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
)
import probatio

from ..adapters.ha_camera import HaCameraSettings, HaCameraSource
from ..camera_settings import CameraSettings, live_detection_default
from ..const import (
    CONF_CAMERA_ENTITY,
    CONF_CLIP_SECONDS,
    CONF_LIVE_DETECTION,
    CONF_MAX_RECORDING,
    CONF_STOP_DELAY,
    CONF_TRIGGER_ENTITY,
    SOURCE_HA_CAMERA,
)
from ..engine.interfaces import ClipSource
from ..engine.spool import Spool
from ..selectors import box
from .base import CheckContext, SourceKind, defaulted, given

FIELDS = {
    CONF_CLIP_SECONDS: "clip_seconds",
    CONF_STOP_DELAY: "stop_delay_s",
    CONF_MAX_RECORDING: "max_recording_s",
}
"""Subentry keys -> settings fields that fall back to the engine's defaults."""


def _schema() -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(CONF_CAMERA_ENTITY): EntitySelector(
                EntitySelectorConfig(domain="camera")
            ),
            probatio.Optional(CONF_TRIGGER_ENTITY): EntitySelector(
                EntitySelectorConfig(
                    domain=["binary_sensor", "input_boolean", "switch"]
                )
            ),
            defaulted(CONF_CLIP_SECONDS, HaCameraSettings, FIELDS): box(1, 600, 1, "s"),
            defaulted(CONF_STOP_DELAY, HaCameraSettings, FIELDS): box(0, 300, 1, "s"),
            defaulted(CONF_MAX_RECORDING, HaCameraSettings, FIELDS): box(
                5, 3600, 1, "s"
            ),
            probatio.Required(
                CONF_LIVE_DETECTION,
                default=live_detection_default(SOURCE_HA_CAMERA),
            ): BooleanSelector(),
        }
    )


def ha_camera_settings(data: Mapping[str, Any]) -> HaCameraSettings:
    """Which Home Assistant camera and trigger to record."""
    values: dict[str, Any] = {
        "camera_entity": data[CONF_CAMERA_ENTITY],
        "trigger_entity": data.get(CONF_TRIGGER_ENTITY) or None,
    }
    return HaCameraSettings.model_validate(values | given(data, FIELDS))


async def _check(
    hass: HomeAssistant, settings: dict[str, Any], context: CheckContext
) -> dict[str, str]:
    if hass.states.get(settings[CONF_CAMERA_ENTITY]) is None:
        return {CONF_CAMERA_ENTITY: "camera_not_found"}
    return {}


def _build(hass: HomeAssistant, camera: CameraSettings, spool: Spool) -> ClipSource:
    return HaCameraSource(
        hass, camera.camera_id, ha_camera_settings(camera.data), spool
    )


async def _stream_source(hass: HomeAssistant, camera: CameraSettings) -> str | None:
    return await async_get_stream_source(hass, camera.data[CONF_CAMERA_ENTITY])


async def _live_image(
    hass: HomeAssistant, camera: CameraSettings, width: int | None
) -> bytes | None:
    """The camera's own snapshot; None while it is away."""
    try:
        image = await async_get_image(
            hass, camera.data[CONF_CAMERA_ENTITY], width=width
        )
    except HomeAssistantError:
        return None
    return image.content


KIND = SourceKind(
    key=SOURCE_HA_CAMERA,
    schema=_schema,
    check=_check,
    build=_build,
    stream_source=_stream_source,
    live_image=_live_image,
    can_record=True,
)
