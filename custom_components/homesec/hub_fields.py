"""Form fields of the hub's config, reconfigure and options flows."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
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
)
import probatio

from .adapters.mqtt_alerts import topic_error
from .const import (
    ANALYZER_NONE,
    CONF_ACTIVITY_TYPES,
    CONF_BASE_PROMPT,
    CONF_COOLDOWN_MINUTES,
    CONF_DAILY_CALLS,
    CONF_DAILY_TOKENS,
    CONF_DETECT_CLASSES,
    CONF_DISK_FLOOR_GB,
    CONF_DISK_LOW_GB,
    CONF_DROPBOX_APP_SECRET,
    CONF_DROPBOX_REFRESH_TOKEN,
    CONF_DROPBOX_RETENTION,
    CONF_MAX_FRAMES,
    CONF_MIN_BOX_H_RATIO,
    CONF_MIN_CONFIDENCE,
    CONF_MIN_HITS,
    CONF_MIN_RISK_LEVEL,
    CONF_MQTT_QOS,
    CONF_MQTT_RETAIN,
    CONF_MQTT_TOPIC,
    CONF_NOTIFY_ENTITIES,
    CONF_NOTIFY_ON_ACTIVITY_TYPES,
    CONF_NOTIFY_ON_MOTION,
    CONF_NOTIFY_SERVICES,
    CONF_OPENAI_API_KEY,
    CONF_PHONE_URGENT_CRITICAL,
    CONF_PHONE_URGENT_FROM,
    CONF_POSTGRES_DSN,
    CONF_REMOTE_API_KEY,
    CONF_RETENTION_MAX_DAYS,
    CONF_RETENTION_MAX_GB,
    CONF_STORE_ALERT_DAYS,
    CONF_STORE_MAX_DAYS,
    CONF_STORE_MAX_GB,
    CONF_TRIGGER_CLASSES,
    RISK_LEVELS,
    STORAGE_DROPBOX,
)
from .selectors import activity_choice, box, choice
from .settings import HUB_DEFAULTS, URGENT_NEVER, HubSettings

# Addresses shown as examples in the forms (translations may hold no URLs).
FIELD_EXAMPLES = {
    "remote_url_example": "http://192.168.1.20:32168",
    "openai_url_example": "https://api.openai.com/v1",
    "ollama_url_example": "http://192.168.1.20:11434/v1",
}

D = HUB_DEFAULTS
CONF_HISTORY_MAX_DAYS = "history_max_days"
CONF_LIVE_FPS = "live_fps"
CONF_LIVE_TOTAL_FPS = "live_total_fps"
CONF_STATIONARY_FORGET_MINUTES = "stationary_forget_minutes"
NEW_HUB = D.model_dump(
    mode="json",
    include={
        "storage_type",
        "storage_path",
        "spool_path",
        "state_store",
        "sqlite_path",
        "detector",
        "analyzer",
        "trigger_classes",
        "min_risk_level",
        "notify_on_activity_types",
        "notify_on_motion",
    },
)
"""What a new hub starts from (the embedded defaults)."""
SECRETS = {
    CONF_DROPBOX_APP_SECRET,
    CONF_DROPBOX_REFRESH_TOKEN,
    CONF_POSTGRES_DSN,
    CONF_OPENAI_API_KEY,
    CONF_REMOTE_API_KEY,
}
"""Never shown back in a form; left empty, the stored value is kept."""

# Notify services that are not a phone or a target of their own.
_NOT_TARGETS = {"send_message", "persistent_notification", "notify"}


def notify_services(hass: HomeAssistant) -> list[str]:
    """The notify services a user can pick (mobile apps and legacy services)."""
    return sorted(
        f"notify.{name}"
        for name in hass.services.async_services_for_domain("notify")
        if name not in _NOT_TARGETS
    )


def classes(choices: list[str], default: tuple[str, ...]) -> tuple[list[str], Any]:
    """A multiple choice of object classes, and its default among them."""
    kept = [name for name in default if name in choices] or list(choices)
    selector = choice(
        choices, CONF_DETECT_CLASSES, multiple=True, dropdown=len(choices) > 8
    )
    return kept, selector


def mqtt_configured(hass: HomeAssistant) -> bool:
    """Whether Home Assistant's MQTT integration is set up (alerts go to it)."""
    return bool(hass.config_entries.async_entries("mqtt", include_disabled=False))


def alert_fields(hass: HomeAssistant, settings: HubSettings) -> dict[Any, Any]:
    """Who is told, about what, and how long clips stay in the spool.

    Summary rules only with a summary model, MQTT only with MQTT set up.
    """
    fields: dict[Any, Any] = {
        probatio.Optional(
            CONF_NOTIFY_ENTITIES, default=list(D.notify_entities)
        ): EntitySelector(EntitySelectorConfig(domain="notify", multiple=True)),
        probatio.Optional(
            CONF_NOTIFY_SERVICES, default=list(D.notify_services)
        ): SelectSelector(
            SelectSelectorConfig(
                options=notify_services(hass),
                multiple=True,
                custom_value=True,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
    }
    if settings.analyzer != ANALYZER_NONE:
        triggers, trigger_selector = classes(settings.class_choices, D.trigger_classes)
        fields |= {
            probatio.Required(CONF_TRIGGER_CLASSES, default=triggers): trigger_selector,
            probatio.Required(
                CONF_MIN_RISK_LEVEL, default=D.min_risk_level.value
            ): choice(RISK_LEVELS, CONF_MIN_RISK_LEVEL, dropdown=True),
            probatio.Required(
                CONF_NOTIFY_ON_ACTIVITY_TYPES,
                default=list(D.notify_on_activity_types),
            ): activity_choice(settings.activities),
        }
    fields |= {
        probatio.Required(
            CONF_NOTIFY_ON_MOTION, default=D.notify_on_motion
        ): BooleanSelector(),
        probatio.Required(CONF_RETENTION_MAX_GB, default=D.retention_max_gb): box(
            0, 10000, 0.5, "GB"
        ),
        probatio.Required(CONF_RETENTION_MAX_DAYS, default=D.retention_max_days): box(
            0, 3650, 1, "d"
        ),
    }
    if mqtt_configured(hass):
        fields |= {
            probatio.Required(CONF_MQTT_TOPIC, default=D.mqtt_topic): TextSelector(),
            probatio.Required(CONF_MQTT_QOS, default=str(D.mqtt_qos)): choice(
                ["0", "1", "2"], CONF_MQTT_QOS
            ),
            probatio.Required(
                CONF_MQTT_RETAIN, default=D.mqtt_retain
            ): BooleanSelector(),
        }
    return fields


def phone_fields() -> dict[Any, Any]:
    """From which risk phone alerts are urgent, and how urgent."""
    return {
        probatio.Required(CONF_PHONE_URGENT_FROM, default=D.phone_urgent_from): choice(
            [URGENT_NEVER, *RISK_LEVELS], CONF_PHONE_URGENT_FROM, dropdown=True
        ),
        probatio.Required(
            CONF_PHONE_URGENT_CRITICAL, default=D.phone_urgent_critical
        ): BooleanSelector(),
    }


def alert_errors(user_input: dict[str, Any]) -> dict[str, str]:
    """Form errors of the alert fields (the MQTT topic template)."""
    error = topic_error(str(user_input.get(CONF_MQTT_TOPIC) or D.mqtt_topic))
    return {CONF_MQTT_TOPIC: error} if error else {}


def store_fields(storage_type: str) -> dict[Any, Any]:
    """How long stored clips stay, and how much free disk space HomeSec keeps."""
    dropbox = (
        {
            probatio.Required(
                CONF_DROPBOX_RETENTION, default=D.dropbox_retention
            ): BooleanSelector()
        }
        if storage_type == STORAGE_DROPBOX
        else {}
    )
    return {
        probatio.Required(CONF_STORE_MAX_GB, default=D.store_max_gb): box(
            0, 100000, 1, "GB"
        ),
        probatio.Required(CONF_STORE_MAX_DAYS, default=D.store_max_days): box(
            0, 3650, 1, "d"
        ),
        probatio.Required(CONF_STORE_ALERT_DAYS, default=D.store_alert_days): box(
            0, 3650, 1, "d"
        ),
        **dropbox,
        probatio.Required(CONF_DISK_LOW_GB, default=D.disk_low_gb): box(
            0.5, 1000, 0.5, "GB"
        ),
        probatio.Required(CONF_DISK_FLOOR_GB, default=D.disk_floor_gb): box(
            0.5, 1000, 0.5, "GB"
        ),
    }


def store_errors(user_input: dict[str, Any]) -> dict[str, str]:
    """Form errors: alerted clips kept at least as long, the floor below the rest."""
    errors: dict[str, str] = {}
    days = float(user_input.get(CONF_STORE_MAX_DAYS, D.store_max_days))
    alert_days = float(user_input.get(CONF_STORE_ALERT_DAYS, D.store_alert_days))
    if alert_days and (not days or alert_days < days):
        errors[CONF_STORE_ALERT_DAYS] = "alert_days_too_short"
    low = float(user_input.get(CONF_DISK_LOW_GB, D.disk_low_gb))
    if float(user_input.get(CONF_DISK_FLOOR_GB, D.disk_floor_gb)) > low:
        errors[CONF_DISK_FLOOR_GB] = "floor_above_threshold"
    return errors


def cost_fields() -> dict[Any, Any]:
    """Prompt, activity types, frames and budgets (both analyzers)."""
    return {
        probatio.Required(CONF_BASE_PROMPT, default=D.base_prompt): TextSelector(
            TextSelectorConfig(multiline=True)
        ),
        probatio.Required(
            CONF_ACTIVITY_TYPES, default=list(D.activity_types)
        ): activity_choice(list(D.activity_types), custom=True),
        **budget_fields(),
    }


def budget_fields() -> dict[Any, Any]:
    """Frames per clip, daily budgets and the cooldown."""
    return {
        probatio.Required(CONF_MAX_FRAMES, default=D.max_frames): box(1, 12, 1),
        probatio.Required(CONF_DAILY_CALLS, default=D.daily_calls): box(0, 100000, 1),
        probatio.Required(CONF_DAILY_TOKENS, default=D.daily_tokens): box(
            0, 100000000, 1000
        ),
        probatio.Required(CONF_COOLDOWN_MINUTES, default=D.cooldown_minutes): box(
            0, 1440, 1, "min"
        ),
    }


def rules_fields(class_choices: list[str]) -> dict[Any, Any]:
    """Which detections count (``class_choices``: what the model detects)."""
    detected, selector = classes(class_choices, D.detect_classes)
    return {
        probatio.Required(CONF_DETECT_CLASSES, default=detected): selector,
        probatio.Required(
            CONF_MIN_CONFIDENCE, default=D.min_confidence
        ): NumberSelector(
            NumberSelectorConfig(
                min=0.05, max=1, step=0.05, mode=NumberSelectorMode.SLIDER
            )
        ),
        probatio.Required(CONF_MIN_HITS, default=D.min_hits): box(1, 10, 1),
        probatio.Required(
            CONF_MIN_BOX_H_RATIO, default=D.min_box_h_ratio
        ): NumberSelector(
            NumberSelectorConfig(
                min=0, max=1, step=0.05, mode=NumberSelectorMode.SLIDER
            )
        ),
    }


def history_fields() -> dict[Any, Any]:
    """How long the clip history is kept."""
    return {
        probatio.Required(CONF_HISTORY_MAX_DAYS, default=D.history_max_days): box(
            0, 3650, 1, "d"
        ),
    }


def live_fields() -> dict[Any, Any]:
    """Live detection's frame budget: per recording camera and across cameras."""
    return {
        probatio.Required(CONF_LIVE_FPS, default=D.live_fps): box(0.5, 5, 0.5, "fps"),
        probatio.Required(CONF_LIVE_TOTAL_FPS, default=D.live_total_fps): box(
            1, 20, 1, "fps"
        ),
    }


def stationary_fields() -> dict[Any, Any]:
    """How long a parked object may be gone and still not alert when back."""
    return {
        probatio.Required(
            CONF_STATIONARY_FORGET_MINUTES, default=D.stationary_forget_minutes
        ): box(0, 1440, 1, "min"),
    }
