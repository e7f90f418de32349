"""Config flow of the HomeSec hub: setup, reconfigure and reauthentication."""

from __future__ import annotations

from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    EntitySelector,
    EntitySelectorConfig,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)
import probatio

from .analyzer_checks import async_check_openai
from .camera_flow import CameraSubentryFlow
from .const import (
    ANALYZER_AI_TASK,
    ANALYZER_OPENAI,
    ANALYZERS,
    CONF_AI_TASK_ENTITY,
    CONF_ANALYSIS_TIMEOUT,
    CONF_ANALYZER,
    CONF_DETECTOR,
    CONF_DROPBOX_APP_KEY,
    CONF_DROPBOX_APP_SECRET,
    CONF_DROPBOX_REFRESH_TOKEN,
    CONF_DROPBOX_ROOT,
    CONF_MODEL_CLASSES,
    CONF_MODEL_PATH,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_OPENAI_MODEL,
    CONF_POSTGRES_DSN,
    CONF_STATE_STORE,
    CONF_STORAGE_PATH,
    CONF_STORAGE_TYPE,
    CONF_TOKEN_PARAMETER,
    DETECTORS,
    DOMAIN,
    STATE_STORE_POSTGRES,
    STATE_STORES,
    STORAGE_DROPBOX,
    STORAGE_TYPES,
    SUBENTRY_CAMERA,
    TOKEN_PARAMETERS,
)
from .data import HomeSecConfigEntry
from .detector_kinds import DETECTOR_KINDS
from .engine.detect.model_info import ModelInfo
from .hub_checks import async_check_dropbox, async_check_local, async_check_postgres
from .hub_fields import (
    NEW_HUB,
    alert_errors,
    alert_fields,
    cost_fields,
    rules_fields,
)
from .hub_flow_base import HubFlowBase
from .media_paths import new_hub_paths
from .migration import CURRENT_MINOR_VERSION
from .model_picker import (
    async_choose_model,
    async_model_fields,
    fitted_classes,
    model_placeholders,
)
from .options_flow import HubOptionsFlow
from .selectors import PASSWORD, URL, box, choice
from .settings import HUB_DEFAULTS, HubSettings, merged


class HomeSecConfigFlow(HubFlowBase, domain=DOMAIN):
    """Set up the hub: storage, state store, detector, analyzer and alerts.

    Reconfigure walks the same steps from the current settings (secrets left
    empty are kept); reauthentication asks only for the credentials.
    """

    VERSION = 1
    MINOR_VERSION = CURRENT_MINOR_VERSION

    def __init__(self) -> None:
        """Start from the embedded defaults."""
        super().__init__()
        self._data = dict(NEW_HUB)
        self._model: ModelInfo | None = None

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Where clips and their history are kept (embedded defaults)."""
        if user_input is None:
            self._data |= await self.hass.async_add_executor_job(new_hub_paths)
        return await self._storage_choice("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change storage, state store, detector or analyzer."""
        if user_input is None:
            # Options override data: start from what is in effect.
            self._data = merged(self._get_reconfigure_entry())
        return await self._storage_choice("reconfigure", user_input)

    async def _storage_choice(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        if user_input is not None:
            self._data |= user_input
            if user_input[CONF_STORAGE_TYPE] == STORAGE_DROPBOX:
                return await self.async_step_dropbox()
            return await self.async_step_local()
        fields = {
            probatio.Required(
                CONF_STORAGE_TYPE, default=HUB_DEFAULTS.storage_type
            ): choice(STORAGE_TYPES, CONF_STORAGE_TYPE),
            probatio.Required(
                CONF_STATE_STORE, default=HUB_DEFAULTS.state_store
            ): choice(STATE_STORES, CONF_STATE_STORE),
        }
        return self._form(step_id, fields)

    async def async_step_local(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A folder for stored clips (a mounted share works too)."""
        default = self._data.get(CONF_STORAGE_PATH, HUB_DEFAULTS.storage_path)
        fields = {probatio.Required(CONF_STORAGE_PATH, default=default): TextSelector()}
        return await self._checked_step(
            "local", fields, user_input, async_check_local, self._store
        )

    async def async_step_dropbox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A Dropbox app with a refresh token."""
        fields = {
            probatio.Required(CONF_DROPBOX_ROOT, default=HUB_DEFAULTS.dropbox_root): (
                TextSelector()
            ),
            probatio.Required(CONF_DROPBOX_APP_KEY): TextSelector(),
            probatio.Optional(CONF_DROPBOX_APP_SECRET): PASSWORD,
            self._secret(CONF_DROPBOX_REFRESH_TOKEN): PASSWORD,
        }
        return await self._checked_step(
            "dropbox", fields, user_input, async_check_dropbox, self._store
        )

    async def async_step_reconfigure_dropbox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Dropbox, reconfigured (empty secrets keep the stored ones)."""
        return await self.async_step_dropbox(user_input)

    async def _store(self) -> ConfigFlowResult:
        if self._data[CONF_STATE_STORE] == STATE_STORE_POSTGRES:
            return await self.async_step_postgres()
        return await self.async_step_detector()

    async def async_step_postgres(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A Postgres database for clip history."""
        fields = {self._secret(CONF_POSTGRES_DSN): PASSWORD}
        return await self._checked_step(
            "postgres",
            fields,
            user_input,
            async_check_postgres,
            self.async_step_detector,
        )

    async def async_step_reconfigure_postgres(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Postgres, reconfigured (empty keeps the stored URL)."""
        return await self.async_step_postgres(user_input)

    async def async_step_detector(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose how clips are scanned."""
        if user_input is None:
            fields = {
                probatio.Required(CONF_DETECTOR, default=HUB_DEFAULTS.detector): choice(
                    DETECTORS, CONF_DETECTOR
                )
            }
            return self._form("detector", fields)
        self._data |= user_input
        kind = DETECTOR_KINDS[user_input[CONF_DETECTOR]]
        if kind.describe is not None:
            return await self._model_step(kind.key, None)
        # Without a model of its own, the detector reports COCO's classes.
        self._data |= {CONF_MODEL_CLASSES: []}
        self._data |= fitted_classes(self._data, [])
        if kind.check is None:
            return await self.async_step_analyzer()
        return await self._detector_step(kind.key, None)

    async def async_step_ncnn(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A YOLO model exported to NCNN, run by ncnn."""
        return await self._model_step("ncnn", user_input)

    async def async_step_onnx(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A YOLO model exported to ONNX, run by ONNX Runtime."""
        return await self._model_step("onnx", user_input)

    async def async_step_ultralytics(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A YOLO model run by the Ultralytics package."""
        return await self._model_step("ultralytics", user_input)

    async def _model_step(
        self, backend: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Pick or upload the model; it must load before the flow goes on."""
        kind = DETECTOR_KINDS[backend]
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = await async_choose_model(self.hass, kind, self._data, user_input)
            if not isinstance(chosen, dict):
                self._data |= chosen.data
                self._model = chosen.info
                return await self.async_step_model()
            errors = chosen
        fields = await async_model_fields(self.hass, kind) | kind.fields()
        return self._form(backend, fields, errors, user_input)

    async def async_step_model(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What the model detects; choose which of its classes count."""
        assert self._model is not None
        if user_input is not None:
            self._data |= user_input
            return await self.async_step_analyzer()
        # Classes the model does not know are dropped (triggers included).
        self._data |= fitted_classes(self._data, self._model.labels)
        return self._form(
            "model",
            rules_fields(HubSettings.from_data(self._data).class_choices),
            placeholders=model_placeholders(self._model, self._data[CONF_MODEL_PATH]),
        )

    async def async_step_remote(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A DeepStack / CodeProject.AI detection server."""
        return await self._detector_step("remote", user_input)

    async def async_step_reconfigure_remote(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The detection server, reconfigured (empty keeps the stored key)."""
        return await self.async_step_remote(user_input)

    async def _detector_step(
        self, backend: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """The backend's own fields and the detection rules, checked."""
        kind = DETECTOR_KINDS[backend]
        assert kind.check is not None
        choices = HubSettings.from_data(self._data).class_choices
        return await self._checked_step(
            backend,
            kind.fields() | rules_fields(choices),
            user_input,
            kind.check,
            self.async_step_analyzer,
        )

    async def async_step_analyzer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the model that summarizes clips (or none)."""
        if user_input is None:
            fields = {
                probatio.Required(CONF_ANALYZER, default=HUB_DEFAULTS.analyzer): choice(
                    ANALYZERS, CONF_ANALYZER
                )
            }
            return self._form("analyzer", fields)
        self._data |= user_input
        if user_input[CONF_ANALYZER] == ANALYZER_OPENAI:
            return await self.async_step_openai()
        if user_input[CONF_ANALYZER] == ANALYZER_AI_TASK:
            return await self.async_step_ai_task()
        return await self._done()

    async def async_step_openai(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An OpenAI-compatible server (OpenAI, Ollama, LocalAI, OpenRouter...)."""
        fields = {
            probatio.Required(
                CONF_OPENAI_BASE_URL, default=HUB_DEFAULTS.openai_base_url
            ): URL,
            probatio.Optional(CONF_OPENAI_API_KEY): PASSWORD,
            probatio.Required(
                CONF_OPENAI_MODEL, default=HUB_DEFAULTS.openai_model
            ): TextSelector(),
            probatio.Required(
                CONF_TOKEN_PARAMETER, default=HUB_DEFAULTS.token_parameter
            ): SelectSelector(SelectSelectorConfig(options=TOKEN_PARAMETERS)),
            probatio.Required(
                CONF_ANALYSIS_TIMEOUT, default=HUB_DEFAULTS.analysis_timeout
            ): box(5, 600, 5, "s"),
        }
        return await self._checked_step(
            "openai",
            fields | cost_fields(),
            user_input,
            async_check_openai,
            self._done,
        )

    async def async_step_reconfigure_openai(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The OpenAI-compatible server, reconfigured (empty keeps the stored key)."""
        return await self.async_step_openai(user_input)

    async def async_step_ai_task(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An AI Task entity already set up in Home Assistant."""
        if user_input is not None:
            self._data |= user_input
            return await self._done()
        fields = {
            probatio.Required(CONF_AI_TASK_ENTITY): EntitySelector(
                EntitySelectorConfig(domain="ai_task")
            )
        }
        return self._form("ai_task", fields | cost_fields())

    async def _done(self) -> ConfigFlowResult:
        """Save a reconfiguration, or go on to alerts for a new hub."""
        if self.source == SOURCE_RECONFIGURE:
            # Everything in effect is in the data now: stale options must not
            # override what was just chosen (classes of a new model, say).
            return self.async_update_reload_and_abort(
                self._get_reconfigure_entry(), data=self._data, options={}
            )
        return await self.async_step_alerts()

    async def async_step_alerts(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Who is notified, about what, and how long clips are kept."""
        errors = alert_errors(user_input) if user_input is not None else {}
        if user_input is not None and not errors:
            self._data |= user_input
            return self.async_create_entry(title="HomeSec", data=self._data)
        fields = alert_fields(self.hass, HubSettings.from_data(self._data))
        return self._form("alerts", fields, errors, user_input)

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: HomeSecConfigEntry) -> HubOptionsFlow:
        """What can change after setup."""
        return HubOptionsFlow()

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Cameras are subentries of the hub."""
        return {SUBENTRY_CAMERA: CameraSubentryFlow}
