"""Config flow: the HomeSec hub, and a subentry flow per camera."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.util import slugify
import probatio

from .const import (
    ANALYZER_NONE,
    CONF_ANALYZER,
    CONF_CAMERA_ID,
    CONF_DETECTOR,
    CONF_MIN_RISK_LEVEL,
    CONF_NOTIFY_ON_ACTIVITY_TYPES,
    CONF_NOTIFY_ON_MOTION,
    CONF_SETTLE_SECONDS,
    CONF_SOURCE_TYPE,
    CONF_SQLITE_PATH,
    CONF_STATE_STORE,
    CONF_STORAGE_PATH,
    CONF_STORAGE_TYPE,
    CONF_TRIGGER_CLASSES,
    CONF_WATCH_FOLDER,
    DEFAULT_SETTLE_SECONDS,
    DEFAULT_SQLITE_PATH,
    DEFAULT_STORAGE_PATH,
    DETECTOR_MOTION,
    DOMAIN,
    SOURCE_FOLDER,
    STATE_STORE_SQLITE,
    STORAGE_LOCAL,
    SUBENTRY_CAMERA,
)

HUB_DEFAULTS: dict[str, Any] = {
    CONF_STORAGE_TYPE: STORAGE_LOCAL,
    CONF_STORAGE_PATH: DEFAULT_STORAGE_PATH,
    CONF_STATE_STORE: STATE_STORE_SQLITE,
    CONF_SQLITE_PATH: DEFAULT_SQLITE_PATH,
    CONF_DETECTOR: DETECTOR_MOTION,
    CONF_ANALYZER: ANALYZER_NONE,
    CONF_TRIGGER_CLASSES: ["person", "vehicle", "animal"],
    CONF_MIN_RISK_LEVEL: "high",
    CONF_NOTIFY_ON_ACTIVITY_TYPES: [],
    CONF_NOTIFY_ON_MOTION: False,
}


class HomeSecConfigFlow(ConfigFlow, domain=DOMAIN):
    """Create the HomeSec hub on embedded defaults."""

    VERSION = 1
    MINOR_VERSION = 1

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm, then create the hub (SQLite state, local storage)."""
        if user_input is None:
            return self.async_show_form(step_id="user")
        return self.async_create_entry(title="HomeSec", data=dict(HUB_DEFAULTS))

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Cameras are subentries of the hub."""
        return {SUBENTRY_CAMERA: CameraSubentryFlow}


def _camera_schema() -> probatio.Schema:
    return probatio.Schema(
        {
            probatio.Required(CONF_NAME): TextSelector(),
            probatio.Required(CONF_SOURCE_TYPE, default=SOURCE_FOLDER): SelectSelector(
                SelectSelectorConfig(
                    options=[SOURCE_FOLDER],
                    translation_key=CONF_SOURCE_TYPE,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            probatio.Required(CONF_WATCH_FOLDER): TextSelector(),
            probatio.Required(
                CONF_SETTLE_SECONDS, default=DEFAULT_SETTLE_SECONDS
            ): NumberSelector(
                NumberSelectorConfig(
                    min=1,
                    max=300,
                    step=1,
                    unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            probatio.Required(CONF_NOTIFY_ON_MOTION, default=False): BooleanSelector(),
        }
    )


def _camera_id(name: str) -> str:
    """The camera id of a name, or "" when the name has no letter or digit."""
    return slugify(name) if any(char.isalnum() for char in name) else ""


def _folder_error(hass: HomeAssistant, folder: str) -> str | None:
    """Why a watch folder cannot be used, or None (blocking: run in executor)."""
    path = Path(folder)
    if not path.is_absolute():
        return "folder_not_absolute"
    if not path.is_dir():
        return "folder_not_found"
    config_dir = Path(hass.config.config_dir).resolve()
    resolved = path.resolve()
    if not (
        resolved.is_relative_to(config_dir) or hass.config.is_allowed_path(str(path))
    ):
        return "folder_not_allowed"
    return None


class CameraSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure a camera."""

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a camera."""
        errors: dict[str, str] = {}
        if user_input is not None:
            camera_id = _camera_id(user_input[CONF_NAME])
            taken = {sub.unique_id for sub in self._get_entry().subentries.values()}
            if not camera_id:
                errors[CONF_NAME] = "invalid_name"
            elif camera_id in taken:
                errors[CONF_NAME] = "name_exists"
            elif error := await self.hass.async_add_executor_job(
                _folder_error, self.hass, user_input[CONF_WATCH_FOLDER]
            ):
                errors[CONF_WATCH_FOLDER] = error
            else:
                return self.async_create_entry(
                    title=user_input[CONF_NAME],
                    data=_camera_data(user_input, camera_id),
                    unique_id=camera_id,
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _camera_schema(), user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a camera's settings; its id (and entities) stay."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            if not _camera_id(user_input[CONF_NAME]):
                errors[CONF_NAME] = "invalid_name"
            elif error := await self.hass.async_add_executor_job(
                _folder_error, self.hass, user_input[CONF_WATCH_FOLDER]
            ):
                errors[CONF_WATCH_FOLDER] = error
            else:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=user_input[CONF_NAME],
                    data=_camera_data(user_input, subentry.data[CONF_CAMERA_ID]),
                )
        suggested: Mapping[str, Any] = user_input or {
            **subentry.data,
            CONF_NAME: subentry.title,
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _camera_schema(), suggested
            ),
            errors=errors,
        )


def _camera_data(user_input: Mapping[str, Any], camera_id: str) -> dict[str, Any]:
    return {
        CONF_CAMERA_ID: camera_id,
        CONF_SOURCE_TYPE: user_input[CONF_SOURCE_TYPE],
        CONF_WATCH_FOLDER: user_input[CONF_WATCH_FOLDER],
        CONF_SETTLE_SECONDS: float(user_input[CONF_SETTLE_SECONDS]),
        CONF_NOTIFY_ON_MOTION: bool(user_input[CONF_NOTIFY_ON_MOTION]),
    }
