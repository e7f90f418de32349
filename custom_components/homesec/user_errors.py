"""The errors a user sees when an action or a button cannot do what was asked."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.translation import async_get_cached_translations

from .clip_access import Refusal
from .const import DOMAIN
from .data import Cameras
from .engine.faults import Fault, fault_of


def user_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated error about what the user asked for."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def failure(key: str, **placeholders: str) -> HomeAssistantError:
    """A translated error about something that failed (not the user's doing)."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def refused(refusal: Refusal, cameras: Cameras) -> ServiceValidationError:
    """The translated error of a refused request about a camera or clip.

    Nothing failed: the request does not fit the camera or clip (a clip that
    is unknown, gone or busy; a camera that cannot record), so it is a
    validation error (HTTP 400), not a failure of Home Assistant (500).
    """
    return user_error(
        refusal.reason.value,
        camera=cameras.title(refusal.camera_id),
        clip=refusal.clip_id,
    )


@callback
def user_reason(hass: HomeAssistant, cause: BaseException | Fault) -> str:
    """Why something failed, in a few words of the user's language.

    ``file not found``, ``connection refused``, ``wrong user name or password``;
    never an errno or a class name (the log has the technical text).
    """
    fault = cause if isinstance(cause, Fault) else fault_of(cause)
    texts = async_get_cached_translations(hass, hass.config.language, "common", DOMAIN)
    key = f"component.{DOMAIN}.common.fault_{fault.value}"
    return texts.get(key) or fault.value.replace("_", " ")
