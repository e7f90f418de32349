"""Constants of the HomeSec integration."""

from __future__ import annotations

from typing import Final

from .engine.models import RiskLevel

DOMAIN: Final = "homesec"
SUBENTRY_CAMERA: Final = "camera"

# Hub (config entry) data.
CONF_STORAGE_TYPE: Final = "storage_type"
CONF_STORAGE_PATH: Final = "storage_path"
CONF_SPOOL_PATH: Final = "spool_path"
CONF_STATE_STORE: Final = "state_store"
CONF_DETECTOR: Final = "detector"
CONF_ANALYZER: Final = "analyzer"
CONF_TRIGGER_CLASSES: Final = "trigger_classes"
CONF_MIN_RISK_LEVEL: Final = "min_risk_level"
CONF_NOTIFY_ON_ACTIVITY_TYPES: Final = "notify_on_activity_types"
CONF_NOTIFY_ON_MOTION: Final = "notify_on_motion"
RISK_LEVELS: Final = [level.value for level in RiskLevel]

CONF_MQTT_TOPIC: Final = "mqtt_topic"
CONF_MQTT_QOS: Final = "mqtt_qos"
CONF_MQTT_RETAIN: Final = "mqtt_retain"
CONF_NOTIFY_ENTITIES: Final = "notify_entities"
CONF_NOTIFY_SERVICES: Final = "notify_services"
CONF_PHONE_URGENT_FROM: Final = "phone_urgent_from"
CONF_PHONE_URGENT_CRITICAL: Final = "phone_urgent_critical"
CONF_POSTGRES_DSN: Final = "postgres_dsn"
CONF_DROPBOX_ROOT: Final = "dropbox_root"
CONF_DROPBOX_APP_KEY: Final = "dropbox_app_key"
CONF_DROPBOX_APP_SECRET: Final = "dropbox_app_secret"
CONF_DROPBOX_REFRESH_TOKEN: Final = "dropbox_refresh_token"
CONF_DROPBOX_ACCESS_TOKEN: Final = "dropbox_access_token"
CONF_RETENTION_MAX_GB: Final = "retention_max_gb"
CONF_RETENTION_MAX_DAYS: Final = "retention_max_days"
CONF_STORE_MAX_GB: Final = "store_max_gb"
CONF_STORE_MAX_DAYS: Final = "store_max_days"
CONF_STORE_ALERT_DAYS: Final = "store_alert_days"
CONF_DROPBOX_RETENTION: Final = "dropbox_retention"
CONF_DISK_LOW_GB: Final = "disk_low_gb"
CONF_DISK_FLOOR_GB: Final = "disk_floor_gb"

STORAGE_LOCAL: Final = "local"
STORAGE_DROPBOX: Final = "dropbox"
STATE_STORE_SQLITE: Final = "sqlite"
STATE_STORE_POSTGRES: Final = "postgres"
STORAGE_TYPES: Final = ["local", "dropbox"]
STATE_STORES: Final = ["sqlite", "postgres"]
DETECTOR_MOTION: Final = "motion"
DETECTOR_NCNN: Final = "ncnn"
DETECTOR_ONNX: Final = "onnx"
DETECTOR_ULTRALYTICS: Final = "ultralytics"
DETECTOR_REMOTE: Final = "remote"
DETECTORS: Final = [
    DETECTOR_MOTION,
    DETECTOR_NCNN,
    DETECTOR_ONNX,
    DETECTOR_ULTRALYTICS,
    DETECTOR_REMOTE,
]

CONF_MODEL_PATH: Final = "model_path"
CONF_MODEL_UPLOAD: Final = "model_upload"
CONF_MODEL_CLASSES: Final = "model_classes"
CONF_REMOTE_URL: Final = "remote_url"
CONF_REMOTE_API_KEY: Final = "remote_api_key"
CONF_DETECT_CLASSES: Final = "detect_classes"
CONF_MIN_CONFIDENCE: Final = "min_confidence"
CONF_MIN_BOX_H_RATIO: Final = "min_box_h_ratio"
CONF_MIN_HITS: Final = "min_hits"
CONF_ZONES: Final = "zones"
CONF_MASKS: Final = "masks"
CONF_REQUIRE_ZONE: Final = "require_zone"
CONF_TUNE_DETECTION: Final = "tune_detection"
CONF_IMGSZ: Final = "imgsz"

ISSUE_REQUIREMENTS_FAILED: Final = "requirements_failed"
ISSUE_MODEL_MISSING: Final = "model_missing"
ISSUE_SOURCE_FAILING: Final = "source_failing"
ISSUE_STATE_STORE_UNREACHABLE: Final = "state_store_unreachable"
ISSUE_DETECTOR_UNAVAILABLE: Final = "detector_unavailable"
ISSUE_DISK_SPACE_LOW: Final = "disk_space_low"
ISSUE_RECORDING_STOPPED: Final = "recording_stopped"
DETECTOR_REPAIR_AFTER: Final = 600
DETECTOR_PROBE_MINUTES: Final = 5
SOURCE_FAILING_REPAIR_AFTER: Final = 300
STATE_STORE_REPAIR_AFTER: Final = 600
ANALYZER_NONE: Final = "none"

RETENTION_INTERVAL_MINUTES: Final = 60
DISK_CHECK_MINUTES: Final = 5
RECOVERY_RETRY_SECONDS: Final = 60
STORAGE_PING_MINUTES: Final = 5
STORE_RETRY_MINUTES: Final = 15
SOURCE_HEALTH_SECONDS: Final = 10

SPOOL_PATH: Final = "homesec/spool"
FRAMES_PATH: Final = "homesec/frames"
SNAPSHOTS_PATH: Final = "homesec/snapshots"
PENDING_WRITES_PATH: Final = "homesec/pending_history.json"
"""History writes the state store had not taken when HomeSec stopped."""

# Analyzer (hub data).
ANALYZER_OPENAI: Final = "openai"
ANALYZER_AI_TASK: Final = "ai_task"
ANALYZERS: Final = [ANALYZER_NONE, ANALYZER_OPENAI, ANALYZER_AI_TASK]
CONF_OPENAI_BASE_URL: Final = "openai_base_url"
CONF_OPENAI_API_KEY: Final = "openai_api_key"
CONF_OPENAI_MODEL: Final = "openai_model"
CONF_AI_TASK_ENTITY: Final = "ai_task_entity"
CONF_MAX_FRAMES: Final = "max_frames"
CONF_DAILY_CALLS: Final = "daily_calls"
CONF_DAILY_TOKENS: Final = "daily_tokens"
CONF_COOLDOWN_MINUTES: Final = "cooldown_minutes"
CONF_PROMPT_CONTEXT: Final = "prompt_context"
CONF_BASE_PROMPT: Final = "base_prompt"
CONF_ACTIVITY_TYPES: Final = "activity_types"
CONF_TOKEN_PARAMETER: Final = "token_parameter"
CONF_ANALYSIS_TIMEOUT: Final = "analysis_timeout"
TOKEN_PARAMETERS: Final = ["max_completion_tokens", "max_tokens"]

# Camera (config subentry) data.
CONF_CAMERA_ID: Final = "camera_id"
CONF_SOURCE_TYPE: Final = "source_type"
CONF_WATCH_FOLDER: Final = "watch_folder"
CONF_SETTLE_SECONDS: Final = "settle_seconds"
CONF_CREATE_FOLDER: Final = "create_folder"
INCOMING_PATH: Final = "homesec/incoming"
"""Where new folder cameras are offered a folder (under media or the config)."""

CONF_ENABLED: Final = "enabled"
CONF_QUIET_START: Final = "quiet_start"
CONF_QUIET_END: Final = "quiet_end"
SNOOZE_MINUTES: Final = 60
SNOOZE_ACTION_PREFIX: Final = "HOMESEC_SNOOZE_"
CONF_MIN_RISK_OVERRIDE: Final = "min_risk_override"
RISK_DEFAULT: Final = "default"
MOTION_DEFAULT: Final = "default"
MOTION_ON: Final = "on"
MOTION_OFF: Final = "off"
MOTION_CHOICES: Final = [MOTION_DEFAULT, MOTION_ON, MOTION_OFF]
"""A camera's "Alert on any motion": as the hub, or on or off for this camera."""

SOURCE_FOLDER: Final = "folder"
SOURCE_RTSP: Final = "rtsp"
SOURCE_FTP: Final = "ftp"
SOURCE_HA_CAMERA: Final = "ha_camera"

# RTSP cameras.
CONF_SUBSTREAM_URL: Final = "substream_url"
CONF_LIVE_DETECTION: Final = "live_detection"
CONF_RTSP_TRANSPORT: Final = "rtsp_transport"
CONF_PIXEL_THRESHOLD: Final = "pixel_threshold"
CONF_MIN_CHANGED_PCT: Final = "min_changed_pct"
CONF_BLUR: Final = "blur"
CONF_PRE_ROLL: Final = "pre_roll_s"
CONF_STOP_DELAY: Final = "stop_delay_s"
CONF_MAX_RECORDING: Final = "max_recording_s"
RTSP_PROBE_TIMEOUT: Final = 10.0

# FTP cameras.
CONF_ALLOW_ANONYMOUS: Final = "allow_anonymous"
CONF_PASSIVE_PORTS: Final = "passive_ports"
CONF_MAX_UPLOAD_MB: Final = "max_upload_mb"
FTP_UPLOAD_PATH: Final = "homesec/ftp"

# Home Assistant camera sources.
CONF_CAMERA_ENTITY: Final = "camera_entity"
CONF_TRIGGER_ENTITY: Final = "trigger_entity"
CONF_CLIP_SECONDS: Final = "clip_seconds"

# How long a detection keeps its binary sensor on.
DETECTION_HOLD_SECONDS: Final = 60

# Home Assistant bus events.
EVENT_ALERT: Final = "homesec_alert"
EVENT_DETECTION: Final = "homesec_detection"

DETECTION_EVENT_TYPES: Final = ["motion", "person", "vehicle", "animal"]


def camera_signal(entry_id: str, camera_id: str) -> str:
    """Dispatcher signal carrying one camera's lifecycle events."""
    return f"{DOMAIN}_{entry_id}_{camera_id}"


def health_signal(entry_id: str, camera_id: str) -> str:
    """Dispatcher signal sent when a camera's source health changes."""
    return f"{DOMAIN}_{entry_id}_{camera_id}_health"


def hub_signal(entry_id: str) -> str:
    """Dispatcher signal sent when something the hub's entities show changed."""
    return f"{DOMAIN}_{entry_id}_hub"
