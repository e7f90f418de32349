"""A camera's device and picture entity, found in Home Assistant's registries."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.components.camera.const import DOMAIN as CAMERA_DOMAIN
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .camera import PICTURE
from .const import DOMAIN
from .entity import camera_unique_id
from .settings import CameraSettings


@callback
def camera_refs(
    hass: HomeAssistant, cameras: Mapping[str, CameraSettings], camera_id: str
) -> dict[str, str]:
    """``device_id`` and ``entity_id`` (its picture) of a camera, where registered.

    Empty for a camera the hub does not know (removed meanwhile).
    """
    camera = cameras.get(camera_id)
    if camera is None:
        return {}
    refs: dict[str, str] = {}
    device = dr.async_get(hass).async_get_device(
        identifiers={(DOMAIN, camera.subentry_id)}
    )
    if device is not None:
        refs[ATTR_DEVICE_ID] = device.id
    entity_id = er.async_get(hass).async_get_entity_id(
        CAMERA_DOMAIN, DOMAIN, camera_unique_id(camera, PICTURE.key)
    )
    if entity_id is not None:
        refs[ATTR_ENTITY_ID] = entity_id
    return refs
