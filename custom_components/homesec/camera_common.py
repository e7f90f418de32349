"""The camera form's first step: name, source, alerts and quiet hours."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TextSelectorConfig,
    TimeSelector,
)
from homeassistant.util import slugify
import probatio

from .camera_settings import CAMERA_DEFAULTS
from .const import (
    ANALYZER_NONE,
    CONF_CAMERA_ID,
    CONF_ENABLED,
    CONF_MIN_RISK_OVERRIDE,
    CONF_NOTIFY_ON_MOTION,
    CONF_PROMPT_CONTEXT,
    CONF_QUIET_END,
    CONF_QUIET_START,
    CONF_SOURCE_TYPE,
    CONF_TUNE_DETECTION,
    MOTION_CHOICES,
    MOTION_DEFAULT,
    RISK_DEFAULT,
    SOURCE_RTSP,
)
from .engine.models import RiskLevel
from .field_values import motion_choice, time_of_day
from .selectors import choice
from .settings import HubSettings
from .source_kinds import SOURCE_KINDS

SUMMARY_KEYS = (CONF_MIN_RISK_OVERRIDE, CONF_PROMPT_CONTEXT)
"""Shown only when the hub summarizes clips."""


def quiet_hours_errors(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Quiet hours need a start and an end (or neither), and different ones."""
    start = time_of_day(user_input.get(CONF_QUIET_START))  # valid: a TimeSelector
    end = time_of_day(user_input.get(CONF_QUIET_END))
    if (start is None) != (end is None):
        missing = CONF_QUIET_END if start is not None else CONF_QUIET_START
        return {missing: "quiet_hours_incomplete"}
    if start is not None and start == end:
        return {CONF_QUIET_END: "quiet_hours_empty"}
    return {}


def camera_id_of(name: str) -> str:
    """The camera id of a name, or "" when the name has no letter or digit."""
    return slugify(name) if any(char.isalnum() for char in name) else ""


def common_schema(hub: HubSettings, *, with_source: bool) -> probatio.Schema:
    """The first step's fields; those about summaries only with a summary model."""
    fields: dict[Any, Any] = {probatio.Required(CONF_NAME): TextSelector()}
    if with_source:
        fields[probatio.Required(CONF_SOURCE_TYPE, default=SOURCE_RTSP)] = choice(
            list(SOURCE_KINDS), CONF_SOURCE_TYPE, dropdown=True
        )
    defaults = CAMERA_DEFAULTS
    fields |= {
        probatio.Required(CONF_ENABLED, default=defaults.enabled): BooleanSelector(),
        probatio.Required(CONF_NOTIFY_ON_MOTION, default=MOTION_DEFAULT): choice(
            MOTION_CHOICES, CONF_NOTIFY_ON_MOTION
        ),
    }
    if hub.analyzer != ANALYZER_NONE:
        fields |= {
            probatio.Required(
                CONF_MIN_RISK_OVERRIDE, default=defaults.min_risk_override
            ): choice(
                [RISK_DEFAULT, *(level.value for level in RiskLevel)],
                CONF_MIN_RISK_OVERRIDE,
                dropdown=True,
            ),
            probatio.Optional(CONF_PROMPT_CONTEXT): TextSelector(
                TextSelectorConfig(multiline=True)
            ),
        }
    fields |= {
        probatio.Optional(CONF_QUIET_START): TimeSelector(),
        probatio.Optional(CONF_QUIET_END): TimeSelector(),
        probatio.Optional(CONF_TUNE_DETECTION): BooleanSelector(),
    }
    return probatio.Schema(fields)


def shown_common(data: Mapping[str, Any]) -> dict[str, Any]:
    """A saved camera's first-step values as its form shows them."""
    return {
        **data,
        CONF_NOTIFY_ON_MOTION: motion_choice(data.get(CONF_NOTIFY_ON_MOTION)),
    }


def common_data(
    common: Mapping[str, Any], previous: Mapping[str, Any], hub: HubSettings
) -> dict[str, Any]:
    """What the first step stores; fields not shown keep their saved values."""
    kept = common if hub.analyzer != ANALYZER_NONE else previous
    return {
        CONF_CAMERA_ID: common[CONF_CAMERA_ID],
        CONF_SOURCE_TYPE: common[CONF_SOURCE_TYPE],
        CONF_ENABLED: bool(common[CONF_ENABLED]),
        CONF_NOTIFY_ON_MOTION: motion_choice(common.get(CONF_NOTIFY_ON_MOTION)),
        CONF_MIN_RISK_OVERRIDE: kept.get(CONF_MIN_RISK_OVERRIDE) or RISK_DEFAULT,
        CONF_PROMPT_CONTEXT: str(kept.get(CONF_PROMPT_CONTEXT) or "").strip(),
        **{
            key: common[key]
            for key in (CONF_QUIET_START, CONF_QUIET_END)
            if common.get(key)
        },
    }
