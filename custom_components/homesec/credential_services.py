"""The services whose stored credentials can be refused, and how to check them.

A reauthentication asks for the fields of every configured service here and
checks them before saving. A detector backend with credentials adds itself
through its ``DetectorKind.credential_fields``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.core import HomeAssistant

from .analyzer_checks import async_check_openai
from .const import (
    ANALYZER_OPENAI,
    CONF_DROPBOX_APP_KEY,
    CONF_DROPBOX_APP_SECRET,
    CONF_DROPBOX_REFRESH_TOKEN,
    CONF_OPENAI_API_KEY,
    CONF_POSTGRES_DSN,
    STATE_STORE_POSTGRES,
    STORAGE_DROPBOX,
)
from .detector_kinds import DETECTOR_KINDS, DetectorKind
from .hub_checks import async_check_dropbox, async_check_postgres
from .settings import HubSettings

type Check = Callable[[HomeAssistant, HubSettings], Awaitable[dict[str, str]]]


@dataclass(frozen=True, slots=True)
class CredentialService:
    """A service with credentials: its fields, when it is used, its check."""

    key: str
    fields: tuple[str, ...]
    used: Callable[[HubSettings], bool]
    check: Check


def _detector_service(kind: DetectorKind) -> CredentialService:
    assert kind.check is not None
    return CredentialService(
        kind.key,
        kind.credential_fields,
        lambda settings: settings.detector == kind.key,
        kind.check,
    )


CREDENTIAL_SERVICES = (
    CredentialService(
        STORAGE_DROPBOX,
        (CONF_DROPBOX_APP_KEY, CONF_DROPBOX_APP_SECRET, CONF_DROPBOX_REFRESH_TOKEN),
        lambda settings: settings.storage_type == STORAGE_DROPBOX,
        async_check_dropbox,
    ),
    CredentialService(
        STATE_STORE_POSTGRES,
        (CONF_POSTGRES_DSN,),
        lambda settings: settings.state_store == STATE_STORE_POSTGRES,
        async_check_postgres,
    ),
    CredentialService(
        ANALYZER_OPENAI,
        (CONF_OPENAI_API_KEY,),
        lambda settings: settings.analyzer == ANALYZER_OPENAI,
        async_check_openai,
    ),
    *(
        _detector_service(kind)
        for kind in DETECTOR_KINDS.values()
        if kind.credential_fields
    ),
)


def configured(settings: HubSettings) -> list[CredentialService]:
    """The services of this hub that have credentials."""
    return [service for service in CREDENTIAL_SERVICES if service.used(settings)]


async def async_check_all(
    hass: HomeAssistant, services: list[CredentialService], settings: HubSettings
) -> dict[str, str]:
    """Check each service; errors on the fields shown, else on the form."""
    shown = {field for service in services for field in service.fields}
    errors: dict[str, str] = {}
    for service in services:
        for field, error in (await service.check(hass, settings)).items():
            errors[field if field in shown else "base"] = error
    return errors
