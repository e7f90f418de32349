"""A camera's picture entity and device, found in Home Assistant's registries."""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.components.camera.const import DOMAIN as CAMERA_DOMAIN
from homeassistant.const import ATTR_DEVICE_ID, ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er

from .camera import PICTURE
from .camera_settings import CameraSettings
from .const import DOMAIN
from .entity import camera_unique_id


@callback
def camera_refs(
    hass: HomeAssistant, cameras: Mapping[str, CameraSettings], camera_id: str
) -> dict[str, str]:
    """``entity_id`` of a camera's picture and ``device_id`` of its device.

    Empty for a camera the hub does not know (removed meanwhile) or whose
    picture entity is not registered yet.
    """
    camera = cameras.get(camera_id)
    if camera is None:
        return {}
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id(
        CAMERA_DOMAIN, DOMAIN, camera_unique_id(camera, PICTURE.key)
    )
    if entity_id is None or (registered := registry.async_get(entity_id)) is None:
        return {}
    refs = {ATTR_ENTITY_ID: entity_id}
    if registered.device_id is not None:
        refs[ATTR_DEVICE_ID] = registered.device_id
    return refs
