"""The errors a user sees when an action or a button cannot do what was asked."""

from __future__ import annotations

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .clip_access import Reason, Refusal
from .const import DOMAIN
from .data import Cameras

MISTAKES = {Reason.UNKNOWN_CLIP, Reason.NOT_IN_SPOOL}
"""Reasons that are the user's mistake (validation errors, not failures)."""


def user_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated error about what the user asked for."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders or None,
    )


def refused(refusal: Refusal, cameras: Cameras) -> HomeAssistantError:
    """The translated error of a refused request about a camera or clip."""
    placeholders = {
        "camera": cameras.title(refusal.camera_id),
        "clip": refusal.clip_id,
    }
    if refusal.reason in MISTAKES:
        return user_error(refusal.reason.value, **placeholders)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=refusal.reason.value,
        translation_placeholders=placeholders,
    )
