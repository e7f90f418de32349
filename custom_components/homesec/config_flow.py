"""Config flow: the HomeSec hub, and a subentry flow per camera."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from . import analyzer_checks, detector_checks, factory
from .camera_flow import CameraSubentryFlow
from .const import (
    ANALYZER_AI_TASK,
    ANALYZER_NONE,
    ANALYZER_OPENAI,
    ANALYZERS,
    CONF_ACTIVITY_TYPES,
    CONF_AI_TASK_ENTITY,
    CONF_ANALYSIS_TIMEOUT,
    CONF_ANALYZER,
    CONF_BASE_PROMPT,
    CONF_COOLDOWN_MINUTES,
    CONF_DAILY_CALLS,
    CONF_DAILY_TOKENS,
    CONF_DETECT_CLASSES,
    CONF_DETECTOR,
    CONF_IMGSZ,
    CONF_MAX_FRAMES,
    CONF_MIN_BOX_H_RATIO,
    CONF_MIN_CONFIDENCE,
    CONF_MIN_HITS,
    CONF_MIN_RISK_LEVEL,
    CONF_MODEL_PATH,
    CONF_NOTIFY_ON_ACTIVITY_TYPES,
    CONF_NOTIFY_ON_MOTION,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_OPENAI_MODEL,
    CONF_REMOTE_API_KEY,
    CONF_REMOTE_URL,
    CONF_RETENTION_MAX_DAYS,
    CONF_RETENTION_MAX_GB,
    CONF_SQLITE_PATH,
    CONF_STATE_STORE,
    CONF_STORAGE_PATH,
    CONF_STORAGE_TYPE,
    CONF_TOKEN_PARAMETER,
    CONF_TRIGGER_CLASSES,
    DEFAULT_DETECT_CLASSES,
    DEFAULT_IMGSZ,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_OPENAI_BASE_URL,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_RETENTION_MAX_DAYS,
    DEFAULT_RETENTION_MAX_GB,
    DEFAULT_SQLITE_PATH,
    DEFAULT_STORAGE_PATH,
    DETECTOR_MOTION,
    DETECTOR_ONNX,
    DETECTOR_REMOTE,
    DETECTOR_ULTRALYTICS,
    DETECTORS,
    DOMAIN,
    RISK_LEVELS,
    STATE_STORE_SQLITE,
    STORAGE_LOCAL,
    SUBENTRY_CAMERA,
    TOKEN_PARAMETERS,
)
from .engine.analyze.prompt import BASE_PROMPT
from .engine.analyze.schema import DEFAULT_ACTIVITY_TYPES

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

    def __init__(self) -> None:
        """Start from the embedded defaults."""
        self._data: dict[str, Any] = dict(HUB_DEFAULTS)

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Confirm the embedded defaults (SQLite state, local storage)."""
        if user_input is None:
            return self.async_show_form(step_id="user")
        return await self.async_step_detector()

    async def async_step_detector(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose how clips are scanned."""
        if user_input is None:
            return self._choice_form("detector", CONF_DETECTOR, DETECTORS)
        self._data[CONF_DETECTOR] = user_input[CONF_DETECTOR]
        if user_input[CONF_DETECTOR] == DETECTOR_MOTION:
            return await self.async_step_analyzer()
        if user_input[CONF_DETECTOR] == DETECTOR_REMOTE:
            return await self.async_step_remote()
        return await self._model_step(user_input[CONF_DETECTOR], None)

    async def async_step_onnx(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A YOLO model exported to ONNX, run by ONNX Runtime."""
        return await self._model_step(DETECTOR_ONNX, user_input)

    async def async_step_ultralytics(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A YOLO model run by the Ultralytics package."""
        return await self._model_step(DETECTOR_ULTRALYTICS, user_input)

    async def _model_step(
        self, backend: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._data | user_input
            errors = await detector_checks.async_check_model(self.hass, backend, data)
            if not errors:
                self._data = data
                return await self.async_step_analyzer()
        fields: dict[Any, Any] = {probatio.Required(CONF_MODEL_PATH): TextSelector()}
        if backend == DETECTOR_ULTRALYTICS:
            fields[probatio.Required(CONF_IMGSZ, default=DEFAULT_IMGSZ)] = (
                NumberSelector(
                    NumberSelectorConfig(
                        min=64, max=1280, step=32, mode=NumberSelectorMode.BOX
                    )
                )
            )
        return self.async_show_form(
            step_id=backend,
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(fields | _rules_fields()), user_input
            ),
            errors=errors,
        )

    async def async_step_remote(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A DeepStack / CodeProject.AI detection server."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = self._data | user_input
            errors = await detector_checks.async_check_remote(self.hass, data)
            if not errors:
                self._data = data
                return await self.async_step_analyzer()
        fields: dict[Any, Any] = {
            probatio.Required(CONF_REMOTE_URL): TextSelector(
                TextSelectorConfig(type=TextSelectorType.URL)
            ),
            probatio.Optional(CONF_REMOTE_API_KEY): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
        }
        return self.async_show_form(
            step_id="remote",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(fields | _rules_fields()),
                {
                    k: v
                    for k, v in (user_input or {}).items()
                    if k != CONF_REMOTE_API_KEY
                },
            ),
            errors=errors,
        )

    async def async_step_analyzer(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the model that summarizes clips (or none)."""
        if user_input is None:
            return self._choice_form("analyzer", CONF_ANALYZER, ANALYZERS)
        self._data[CONF_ANALYZER] = user_input[CONF_ANALYZER]
        if user_input[CONF_ANALYZER] == ANALYZER_OPENAI:
            return await self.async_step_openai()
        if user_input[CONF_ANALYZER] == ANALYZER_AI_TASK:
            return await self.async_step_ai_task()
        return self._create()

    async def async_step_openai(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An OpenAI-compatible server (OpenAI, Ollama, LocalAI, OpenRouter...)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = await analyzer_checks.async_check_openai(self.hass, user_input)
            if not errors:
                self._data |= user_input
                return self._create()
        fields: dict[Any, Any] = {
            probatio.Required(
                CONF_OPENAI_BASE_URL, default=DEFAULT_OPENAI_BASE_URL
            ): TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
            probatio.Optional(CONF_OPENAI_API_KEY): TextSelector(
                TextSelectorConfig(type=TextSelectorType.PASSWORD)
            ),
            probatio.Required(
                CONF_OPENAI_MODEL, default=DEFAULT_OPENAI_MODEL
            ): TextSelector(),
            probatio.Required(
                CONF_TOKEN_PARAMETER, default=TOKEN_PARAMETERS[0]
            ): SelectSelector(SelectSelectorConfig(options=TOKEN_PARAMETERS)),
            probatio.Required(CONF_ANALYSIS_TIMEOUT, default=60): NumberSelector(
                NumberSelectorConfig(
                    min=5, max=600, step=5, unit_of_measurement="s",
                    mode=NumberSelectorMode.BOX,
                )
            ),
        }  # fmt: skip
        return self.async_show_form(
            step_id="openai",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(fields | _cost_fields()),
                _without_secret(user_input, CONF_OPENAI_API_KEY),
            ),
            errors=errors,
        )

    async def async_step_ai_task(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """An AI Task entity already set up in Home Assistant."""
        if user_input is not None:
            self._data |= user_input
            return self._create()
        fields: dict[Any, Any] = {
            probatio.Required(CONF_AI_TASK_ENTITY): EntitySelector(
                EntitySelectorConfig(domain="ai_task")
            )
        }
        return self.async_show_form(
            step_id="ai_task",
            data_schema=probatio.Schema(fields | _cost_fields()),
        )

    def _choice_form(
        self, step_id: str, key: str, options: list[str]
    ) -> ConfigFlowResult:
        """A form with one list of translated choices, the first preselected."""
        return self.async_show_form(
            step_id=step_id,
            data_schema=probatio.Schema(
                {
                    probatio.Required(key, default=options[0]): SelectSelector(
                        SelectSelectorConfig(
                            options=options,
                            translation_key=key,
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
        )

    def _create(self) -> ConfigFlowResult:
        return self.async_create_entry(title="HomeSec", data=self._data)

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> HubOptionsFlow:
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


class HubOptionsFlow(OptionsFlow):
    """Alert policy, retention, detection rules and analysis budgets."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form with everything that can change without re-adding the hub."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        current = {**self.config_entry.data, **self.config_entry.options}
        fields: dict[Any, Any] = {
            probatio.Required(CONF_MIN_RISK_LEVEL, default="high"): SelectSelector(
                SelectSelectorConfig(
                    options=RISK_LEVELS,
                    translation_key=CONF_MIN_RISK_LEVEL,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            probatio.Required(
                CONF_NOTIFY_ON_ACTIVITY_TYPES, default=[]
            ): SelectSelector(
                SelectSelectorConfig(
                    options=factory.activity_types(current),
                    multiple=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            probatio.Required(CONF_NOTIFY_ON_MOTION, default=False): BooleanSelector(),
            probatio.Required(
                CONF_RETENTION_MAX_GB, default=DEFAULT_RETENTION_MAX_GB
            ): NumberSelector(
                NumberSelectorConfig(
                    min=0, max=10000, step=0.5, unit_of_measurement="GB",
                    mode=NumberSelectorMode.BOX,
                )
            ),
            probatio.Required(
                CONF_RETENTION_MAX_DAYS, default=DEFAULT_RETENTION_MAX_DAYS
            ): NumberSelector(
                NumberSelectorConfig(
                    min=0, max=3650, step=1, unit_of_measurement="d",
                    mode=NumberSelectorMode.BOX,
                )
            ),
        }  # fmt: skip
        if current.get(CONF_DETECTOR, DETECTOR_MOTION) != DETECTOR_MOTION:
            fields |= _rules_fields()
        if current.get(CONF_ANALYZER, ANALYZER_NONE) != ANALYZER_NONE:
            fields |= {
                key: value
                for key, value in _cost_fields().items()
                if key.schema in (CONF_DAILY_CALLS, CONF_DAILY_TOKENS,
                                  CONF_COOLDOWN_MINUTES, CONF_MAX_FRAMES)
            }  # fmt: skip
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(fields), current
            ),
        )


def _without_secret(
    user_input: Mapping[str, Any] | None, secret: str = CONF_REMOTE_API_KEY
) -> dict[str, Any]:
    """Form values to show again: never the secret."""
    return {k: v for k, v in (user_input or {}).items() if k != secret}


def _cost_fields() -> dict[Any, Any]:
    """Prompt, activity types, frames and budgets (both analyzers)."""
    return {
        probatio.Required(CONF_BASE_PROMPT, default=BASE_PROMPT): TextSelector(
            TextSelectorConfig(multiline=True)
        ),
        probatio.Required(
            CONF_ACTIVITY_TYPES, default=list(DEFAULT_ACTIVITY_TYPES)
        ): SelectSelector(
            SelectSelectorConfig(
                options=list(DEFAULT_ACTIVITY_TYPES),
                multiple=True,
                custom_value=True,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        probatio.Required(CONF_MAX_FRAMES, default=4): NumberSelector(
            NumberSelectorConfig(min=1, max=12, step=1, mode=NumberSelectorMode.BOX)
        ),
        probatio.Required(CONF_DAILY_CALLS, default=200): NumberSelector(
            NumberSelectorConfig(min=0, max=100000, step=1, mode=NumberSelectorMode.BOX)
        ),
        probatio.Required(CONF_DAILY_TOKENS, default=400000): NumberSelector(
            NumberSelectorConfig(
                min=0, max=100000000, step=1000, mode=NumberSelectorMode.BOX
            )
        ),
        probatio.Required(CONF_COOLDOWN_MINUTES, default=0): NumberSelector(
            NumberSelectorConfig(
                min=0, max=1440, step=1, unit_of_measurement="min",
                mode=NumberSelectorMode.BOX,
            )
        ),
    }  # fmt: skip


def _rules_fields() -> dict[Any, Any]:
    return {
        probatio.Required(
            CONF_DETECT_CLASSES, default=DEFAULT_DETECT_CLASSES
        ): SelectSelector(
            SelectSelectorConfig(
                options=DEFAULT_DETECT_CLASSES,
                multiple=True,
                translation_key=CONF_DETECT_CLASSES,
                mode=SelectSelectorMode.LIST,
            )
        ),
        probatio.Required(
            CONF_MIN_CONFIDENCE, default=DEFAULT_MIN_CONFIDENCE
        ): NumberSelector(
            NumberSelectorConfig(
                min=0.05, max=1, step=0.05, mode=NumberSelectorMode.SLIDER
            )
        ),
        probatio.Required(CONF_MIN_HITS, default=1): NumberSelector(
            NumberSelectorConfig(min=1, max=10, step=1, mode=NumberSelectorMode.BOX)
        ),
        probatio.Required(CONF_MIN_BOX_H_RATIO, default=0.0): NumberSelector(
            NumberSelectorConfig(
                min=0, max=1, step=0.05, mode=NumberSelectorMode.SLIDER
            )
        ),
    }
