"""Camera subentries: name and alert overrides, then the settings of its source."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.const import (
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_URL,
    CONF_USERNAME,
)
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TimeSelector,
)
from homeassistant.util import slugify
import probatio

from .const import (
    CONF_ALLOW_ANONYMOUS,
    CONF_BLUR,
    CONF_CAMERA_ENTITY,
    CONF_CAMERA_ID,
    CONF_CLIP_SECONDS,
    CONF_ENABLED,
    CONF_MAX_RECORDING,
    CONF_MAX_UPLOAD_MB,
    CONF_MIN_CHANGED_PCT,
    CONF_MIN_RISK_OVERRIDE,
    CONF_NOTIFY_ON_MOTION,
    CONF_PASSIVE_PORTS,
    CONF_PIXEL_THRESHOLD,
    CONF_PRE_ROLL,
    CONF_PROMPT_CONTEXT,
    CONF_QUIET_END,
    CONF_QUIET_START,
    CONF_RTSP_TRANSPORT,
    CONF_SETTLE_SECONDS,
    CONF_SOURCE_TYPE,
    CONF_STOP_DELAY,
    CONF_SUBSTREAM_URL,
    CONF_TRIGGER_ENTITY,
    CONF_WATCH_FOLDER,
    DEFAULT_FTP_PORT,
    DEFAULT_SETTLE_SECONDS,
    RISK_DEFAULT,
    RTSP_PROBE_TIMEOUT,
    SOURCE_FOLDER,
    SOURCE_FTP,
    SOURCE_HA_CAMERA,
    SOURCE_RTSP,
    SOURCE_TYPES,
)
from .engine.models import RiskLevel
from .engine.sources.stream import split_credentials, with_credentials
from .selectors import PASSWORD, URL, box, choice
from .source_checks import STREAM_SCHEMES, folder_error, port_error, probe_stream
from .source_setup import parse_port_range

COMMON_KEYS = (
    CONF_NAME,
    CONF_SOURCE_TYPE,
    CONF_ENABLED,
    CONF_NOTIFY_ON_MOTION,
    CONF_MIN_RISK_OVERRIDE,
    CONF_PROMPT_CONTEXT,
)
SECRET_KEYS = (CONF_PASSWORD,)


def _quiet_hours_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Quiet hours need both a start and an end (or neither)."""
    start, end = user_input.get(CONF_QUIET_START), user_input.get(CONF_QUIET_END)
    if bool(start) != bool(end):
        return {CONF_QUIET_END if start else CONF_QUIET_START: "quiet_hours_incomplete"}
    return {}


def camera_id_of(name: str) -> str:
    """The camera id of a name, or "" when the name has no letter or digit."""
    return slugify(name) if any(char.isalnum() for char in name) else ""


def _common_schema(*, with_source: bool) -> probatio.Schema:
    fields: dict[Any, Any] = {probatio.Required(CONF_NAME): TextSelector()}
    if with_source:
        fields[probatio.Required(CONF_SOURCE_TYPE, default=SOURCE_RTSP)] = choice(
            SOURCE_TYPES, CONF_SOURCE_TYPE, dropdown=True
        )
    fields |= {
        probatio.Required(CONF_ENABLED, default=True): BooleanSelector(),
        probatio.Required(CONF_NOTIFY_ON_MOTION, default=False): BooleanSelector(),
        probatio.Required(CONF_MIN_RISK_OVERRIDE, default=RISK_DEFAULT): choice(
            [RISK_DEFAULT, *(level.value for level in RiskLevel)],
            CONF_MIN_RISK_OVERRIDE,
            dropdown=True,
        ),
        probatio.Optional(CONF_PROMPT_CONTEXT): TextSelector(
            TextSelectorConfig(multiline=True)
        ),
        probatio.Optional(CONF_QUIET_START): TimeSelector(),
        probatio.Optional(CONF_QUIET_END): TimeSelector(),
    }
    return probatio.Schema(fields)


SOURCE_SCHEMAS: dict[str, probatio.Schema] = {
    SOURCE_FOLDER: probatio.Schema(
        {
            probatio.Required(CONF_WATCH_FOLDER): TextSelector(),
            probatio.Required(CONF_SETTLE_SECONDS, default=DEFAULT_SETTLE_SECONDS): box(
                1, 300, 1, "s"
            ),
        }
    ),
    SOURCE_RTSP: probatio.Schema(
        {
            probatio.Required(CONF_URL): URL,
            probatio.Optional(CONF_SUBSTREAM_URL): URL,
            probatio.Optional(CONF_USERNAME): TextSelector(),
            probatio.Optional(CONF_PASSWORD): PASSWORD,
            probatio.Required(CONF_RTSP_TRANSPORT, default="tcp"): choice(
                ["tcp", "udp"], CONF_RTSP_TRANSPORT, dropdown=True
            ),
            probatio.Required(CONF_PIXEL_THRESHOLD, default=25): box(1, 255, 1),
            probatio.Required(CONF_MIN_CHANGED_PCT, default=1.0): box(
                0.1, 100, 0.1, "%"
            ),
            probatio.Required(CONF_BLUR, default=5): box(0, 51, 1, "px"),
            probatio.Required(CONF_PRE_ROLL, default=3): box(0, 30, 1, "s"),
            probatio.Required(CONF_STOP_DELAY, default=5): box(1, 300, 1, "s"),
            probatio.Required(CONF_MAX_RECORDING, default=60): box(5, 3600, 1, "s"),
        }
    ),
    SOURCE_FTP: probatio.Schema(
        {
            probatio.Required(CONF_PORT, default=DEFAULT_FTP_PORT): box(1, 65535, 1),
            probatio.Optional(CONF_USERNAME): TextSelector(),
            probatio.Optional(CONF_PASSWORD): PASSWORD,
            probatio.Required(CONF_ALLOW_ANONYMOUS, default=False): BooleanSelector(),
            probatio.Optional(CONF_PASSIVE_PORTS): TextSelector(),
            probatio.Required(CONF_MAX_UPLOAD_MB, default=200): box(1, 4096, 1, "MB"),
        }
    ),
    SOURCE_HA_CAMERA: probatio.Schema(
        {
            probatio.Required(CONF_CAMERA_ENTITY): EntitySelector(
                EntitySelectorConfig(domain="camera")
            ),
            probatio.Optional(CONF_TRIGGER_ENTITY): EntitySelector(
                EntitySelectorConfig(
                    domain=["binary_sensor", "input_boolean", "switch"]
                )
            ),
            probatio.Required(CONF_CLIP_SECONDS, default=10): box(1, 600, 1, "s"),
            probatio.Required(CONF_STOP_DELAY, default=5): box(0, 300, 1, "s"),
            probatio.Required(CONF_MAX_RECORDING, default=60): box(5, 3600, 1, "s"),
        }
    ),
}


class CameraSubentryFlow(ConfigSubentryFlow):
    """Add or reconfigure a camera: common settings, then its source."""

    _common: dict[str, Any]

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Name the camera and choose where its clips come from."""
        errors: dict[str, str] = {}
        if user_input is not None:
            camera_id = camera_id_of(user_input[CONF_NAME])
            taken = {sub.unique_id for sub in self._get_entry().subentries.values()}
            errors = _quiet_hours_errors(user_input)
            if not camera_id:
                errors[CONF_NAME] = "invalid_name"
            elif camera_id in taken:
                errors[CONF_NAME] = "name_exists"
            elif not errors:
                self._common = {**user_input, CONF_CAMERA_ID: camera_id}
                return await self._source_step(user_input[CONF_SOURCE_TYPE], None)
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _common_schema(with_source=True), user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change the common settings; the source's own step follows."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _quiet_hours_errors(user_input)
            if not camera_id_of(user_input[CONF_NAME]):
                errors[CONF_NAME] = "invalid_name"
            elif not errors:
                self._common = {
                    **user_input,
                    CONF_SOURCE_TYPE: subentry.data[CONF_SOURCE_TYPE],
                    CONF_CAMERA_ID: subentry.data[CONF_CAMERA_ID],
                }
                return await self._source_step(subentry.data[CONF_SOURCE_TYPE], None)
        suggested: Mapping[str, Any] = user_input or {
            **subentry.data,
            CONF_NAME: subentry.title,
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _common_schema(with_source=False), suggested
            ),
            errors=errors,
        )

    async def async_step_folder(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Folder settings."""
        return await self._source_step(SOURCE_FOLDER, user_input)

    async def async_step_rtsp(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """RTSP streams, motion sensitivity and recording bounds."""
        return await self._source_step(SOURCE_RTSP, user_input)

    async def async_step_ftp(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The camera's FTP account."""
        return await self._source_step(SOURCE_FTP, user_input)

    async def async_step_ha_camera(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Which Home Assistant camera, and what starts a recording."""
        return await self._source_step(SOURCE_HA_CAMERA, user_input)

    async def _source_step(
        self, source_type: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        previous = self._previous_data()
        errors: dict[str, str] = {}
        if user_input is not None:
            settings = dict(user_input)
            for key in SECRET_KEYS:  # an empty password field keeps the stored one
                if not settings.get(key) and previous.get(key):
                    settings[key] = previous[key]
            errors = await self._check(source_type, settings)
            if not errors:
                return self._save(settings)
        suggested = dict(user_input or previous)
        for key in SECRET_KEYS:  # never shown back
            suggested.pop(key, None)
        return self.async_show_form(
            step_id=source_type,
            data_schema=self.add_suggested_values_to_schema(
                SOURCE_SCHEMAS[source_type], suggested
            ),
            errors=errors,
            description_placeholders={"name": self._common[CONF_NAME]},
        )

    def _previous_data(self) -> Mapping[str, Any]:
        if self.source == "reconfigure":
            return self._get_reconfigure_subentry().data
        return {}

    async def _check(
        self, source_type: str, settings: dict[str, Any]
    ) -> dict[str, str]:
        if source_type == SOURCE_FOLDER:
            error = await self.hass.async_add_executor_job(
                folder_error, self.hass, settings[CONF_WATCH_FOLDER]
            )
            return {CONF_WATCH_FOLDER: error} if error else {}
        if source_type == SOURCE_RTSP:
            return await self._check_rtsp(settings)
        if source_type == SOURCE_FTP:
            return await self._check_ftp(settings)
        if self.hass.states.get(settings[CONF_CAMERA_ENTITY]) is None:
            return {CONF_CAMERA_ENTITY: "camera_not_found"}
        return {}

    async def _check_rtsp(self, settings: dict[str, Any]) -> dict[str, str]:
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
            error = await self.hass.async_add_executor_job(
                probe_stream, full, settings[CONF_RTSP_TRANSPORT], RTSP_PROBE_TIMEOUT
            )
            if error:
                return {"base" if error == "invalid_auth" else key: error}
        return {}

    async def _check_ftp(self, settings: dict[str, Any]) -> dict[str, str]:
        settings[CONF_PORT] = int(settings[CONF_PORT])
        if not settings.get(CONF_ALLOW_ANONYMOUS) and not (
            settings.get(CONF_USERNAME) and settings.get(CONF_PASSWORD)
        ):
            return {"base": "credentials_required"}
        try:
            parse_port_range(settings.get(CONF_PASSIVE_PORTS))
        except ValueError:
            return {CONF_PASSIVE_PORTS: "invalid_port_range"}
        own = self._previous_data().get(CONF_PORT)
        for sub in self._get_entry().subentries.values():
            if (
                sub.data.get(CONF_SOURCE_TYPE) == SOURCE_FTP
                and sub.data.get(CONF_PORT) == settings[CONF_PORT]
                and sub.data.get(CONF_CAMERA_ID) != self._common[CONF_CAMERA_ID]
            ):
                return {CONF_PORT: "port_in_use"}
        if settings[CONF_PORT] != own:
            error = await self.hass.async_add_executor_job(
                port_error, settings[CONF_PORT]
            )
            if error:
                return {CONF_PORT: error}
        return {}

    def _save(self, settings: dict[str, Any]) -> SubentryFlowResult:
        common = self._common
        data = {
            CONF_CAMERA_ID: common[CONF_CAMERA_ID],
            CONF_SOURCE_TYPE: common[CONF_SOURCE_TYPE],
            CONF_ENABLED: bool(common.get(CONF_ENABLED, True)),
            CONF_NOTIFY_ON_MOTION: bool(common.get(CONF_NOTIFY_ON_MOTION, False)),
            CONF_MIN_RISK_OVERRIDE: common.get(CONF_MIN_RISK_OVERRIDE, RISK_DEFAULT),
            CONF_PROMPT_CONTEXT: str(common.get(CONF_PROMPT_CONTEXT) or "").strip(),
            **{
                key: common[key]
                for key in (CONF_QUIET_START, CONF_QUIET_END)
                if common.get(key)
            },
            **settings,
        }
        if self.source == "reconfigure":
            return self.async_update_and_abort(
                self._get_entry(),
                self._get_reconfigure_subentry(),
                title=common[CONF_NAME],
                data=data,
            )
        return self.async_create_entry(
            title=common[CONF_NAME], data=data, unique_id=common[CONF_CAMERA_ID]
        )
