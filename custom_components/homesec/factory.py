"""Engine parts built from a hub config entry's data."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .adapters.ai_task import AITaskAnalyzer
from .const import (
    ANALYZER_AI_TASK,
    ANALYZER_OPENAI,
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
    CONF_DROPBOX_ACCESS_TOKEN,
    CONF_DROPBOX_APP_KEY,
    CONF_DROPBOX_APP_SECRET,
    CONF_DROPBOX_REFRESH_TOKEN,
    CONF_DROPBOX_ROOT,
    CONF_IMGSZ,
    CONF_MAX_ATTEMPTS,
    CONF_MAX_FRAMES,
    CONF_MIN_BOX_H_RATIO,
    CONF_MIN_CONFIDENCE,
    CONF_MIN_HITS,
    CONF_MODEL_PATH,
    CONF_OPENAI_API_KEY,
    CONF_OPENAI_BASE_URL,
    CONF_OPENAI_MODEL,
    CONF_POSTGRES_DSN,
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
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_OPENAI_BASE_URL,
    DEFAULT_OPENAI_MODEL,
    DEFAULT_RETENTION_MAX_DAYS,
    DEFAULT_RETENTION_MAX_GB,
    DEFAULT_SQLITE_PATH,
    DEFAULT_STORAGE_PATH,
    DETECTOR_ONNX,
    DETECTOR_REMOTE,
    DETECTOR_ULTRALYTICS,
    FRAMES_PATH,
    STATE_STORE_POSTGRES,
    STORAGE_DROPBOX,
)
from .engine.analyze.budget import AnalysisBudget, BudgetedAnalyzer, BudgetSettings
from .engine.analyze.frame_selection import FrameSelection
from .engine.analyze.openai import CameraContext, OpenAIAnalyzer, OpenAISettings
from .engine.analyze.prompt import BASE_PROMPT
from .engine.analyze.schema import DEFAULT_ACTIVITY_TYPES
from .engine.detect.motion import MotionDetector, MotionSettings
from .engine.detect.onnx import OnnxDetector, OnnxSettings
from .engine.detect.remote import RemoteDetector, RemoteSettings
from .engine.detect.rules import DetectionRules
from .engine.detect.ultralytics import UltralyticsDetector, UltralyticsSettings
from .engine.interfaces import Analyzer, BlockingRunner, ObjectDetector, Storage
from .engine.pipeline import PipelineSettings
from .engine.retention import RetentionSettings
from .engine.retry import RetrySettings
from .engine.state.sqlalchemy_store import SQLAlchemyStateStore, sqlite_url
from .engine.storage.dropbox import DropboxSettings, DropboxStorage
from .engine.storage.local import LocalStorage

type ConfigPath = Callable[[str], str]


def sqlite_path(data: Mapping[str, Any], config_path: ConfigPath) -> Path:
    """The SQLite file of the hub (under the config dir unless absolute)."""
    return Path(config_path(data.get(CONF_SQLITE_PATH, DEFAULT_SQLITE_PATH)))


def local_storage_root(data: Mapping[str, Any], config_path: ConfigPath) -> Path:
    """The folder of local storage."""
    return Path(config_path(data.get(CONF_STORAGE_PATH, DEFAULT_STORAGE_PATH)))


def state_store(
    data: Mapping[str, Any], config_path: ConfigPath, run: BlockingRunner
) -> SQLAlchemyStateStore:
    """SQLite by default, Postgres when a DSN is configured."""
    if data.get(CONF_STATE_STORE) == STATE_STORE_POSTGRES:
        dsn = str(data[CONF_POSTGRES_DSN])
        if dsn.startswith(("postgresql://", "postgres://")):
            dsn = "postgresql+asyncpg://" + dsn.split("://", 1)[1]
        return SQLAlchemyStateStore(dsn, run)
    return SQLAlchemyStateStore(sqlite_url(sqlite_path(data, config_path)), run)


def storage(
    data: Mapping[str, Any], config_path: ConfigPath, run: BlockingRunner
) -> Storage:
    """Local folder storage by default, Dropbox when configured."""
    if data.get(CONF_STORAGE_TYPE) == STORAGE_DROPBOX:
        settings = DropboxSettings(
            root=data.get(CONF_DROPBOX_ROOT, "/HomeSec"),
            app_key=data.get(CONF_DROPBOX_APP_KEY) or None,
            app_secret=data.get(CONF_DROPBOX_APP_SECRET) or None,
            refresh_token=data.get(CONF_DROPBOX_REFRESH_TOKEN) or None,
            access_token=data.get(CONF_DROPBOX_ACCESS_TOKEN) or None,
        )
        return DropboxStorage(settings, run)
    return LocalStorage(local_storage_root(data, config_path), run)


def pipeline_settings(data: Mapping[str, Any]) -> PipelineSettings:
    """Trigger classes and retry attempts of the hub."""
    retry = RetrySettings(
        max_attempts=int(data.get(CONF_MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS))
    )
    settings = PipelineSettings(
        upload_retry=retry, analyze_retry=retry, notify_retry=retry
    )
    if CONF_TRIGGER_CLASSES in data:
        settings = settings.model_copy(
            update={"trigger_classes": frozenset(data[CONF_TRIGGER_CLASSES])}
        )
    return settings


def retention_settings(data: Mapping[str, Any]) -> RetentionSettings:
    """Spool limits of the hub (0 disables a limit)."""
    max_gb = float(data.get(CONF_RETENTION_MAX_GB, DEFAULT_RETENTION_MAX_GB))
    max_days = float(data.get(CONF_RETENTION_MAX_DAYS, DEFAULT_RETENTION_MAX_DAYS))
    return RetentionSettings(
        max_bytes=int(max_gb * 1024**3) if max_gb > 0 else None,
        max_age=timedelta(days=max_days) if max_days > 0 else None,
    )


def detection_rules(data: Mapping[str, Any]) -> DetectionRules:
    """Which detections count, from the hub's data."""
    return DetectionRules(
        classes=frozenset(data.get(CONF_DETECT_CLASSES, DEFAULT_DETECT_CLASSES)),
        min_confidence=float(data.get(CONF_MIN_CONFIDENCE, DEFAULT_MIN_CONFIDENCE)),
        min_box_h_ratio=float(data.get(CONF_MIN_BOX_H_RATIO, 0.0)),
        min_hits=int(data.get(CONF_MIN_HITS, 1)),
    )


def model_path(data: Mapping[str, Any], config_path: ConfigPath) -> Path:
    """The model file (relative paths are under the config dir)."""
    return Path(config_path(str(data[CONF_MODEL_PATH])))


def ultralytics_settings(
    data: Mapping[str, Any], config_path: ConfigPath
) -> UltralyticsSettings:
    """Settings of the ultralytics backend (its own files under the config dir)."""
    return UltralyticsSettings(
        model_path=model_path(data, config_path),
        config_dir=Path(config_path("homesec/ultralytics")),
        imgsz=int(data.get(CONF_IMGSZ, DEFAULT_IMGSZ)),
        rules=detection_rules(data),
    )


def detector(
    data: Mapping[str, Any],
    config_path: ConfigPath,
    run: BlockingRunner,
    session: aiohttp.ClientSession,
) -> ObjectDetector:
    """The configured detector backend (motion when none is chosen)."""
    kind = data.get(CONF_DETECTOR)
    rules = detection_rules(data)
    if kind == DETECTOR_ONNX:
        return OnnxDetector(
            OnnxSettings(model_path=model_path(data, config_path), rules=rules)
        )
    if kind == DETECTOR_ULTRALYTICS:
        return UltralyticsDetector(ultralytics_settings(data, config_path))
    if kind == DETECTOR_REMOTE:
        return RemoteDetector(
            RemoteSettings(
                url=str(data[CONF_REMOTE_URL]),
                api_key=data.get(CONF_REMOTE_API_KEY) or None,
                rules=rules,
            ),
            session,
            run,
        )
    return MotionDetector(MotionSettings(), run)


def budget_settings(data: Mapping[str, Any]) -> BudgetSettings:
    """Cost controls of the hub (0 disables a budget)."""
    calls = int(data.get(CONF_DAILY_CALLS, 200))
    tokens = int(data.get(CONF_DAILY_TOKENS, 400_000))
    return BudgetSettings(
        cooldown=timedelta(minutes=float(data.get(CONF_COOLDOWN_MINUTES, 0))),
        daily_calls=calls or None,
        daily_tokens=tokens or None,
    )


def analyzer(
    hass: HomeAssistant,
    data: Mapping[str, Any],
    camera_context: CameraContext,
    budget: AnalysisBudget,
    now: Callable[[], datetime],
) -> Analyzer | None:
    """The configured analyzer behind the budget, or None."""
    kind = data.get(CONF_ANALYZER)
    frames = FrameSelection(max_frames=int(data.get(CONF_MAX_FRAMES, 4)))
    activities = tuple(activity_types(data))
    base_prompt = str(data.get(CONF_BASE_PROMPT) or BASE_PROMPT)
    inner: Analyzer
    if kind == ANALYZER_OPENAI:
        inner = OpenAIAnalyzer(
            OpenAISettings(
                base_url=data.get(CONF_OPENAI_BASE_URL, DEFAULT_OPENAI_BASE_URL),
                api_key=data.get(CONF_OPENAI_API_KEY) or None,
                model=data.get(CONF_OPENAI_MODEL, DEFAULT_OPENAI_MODEL),
                token_parameter=data.get(CONF_TOKEN_PARAMETER, "max_completion_tokens"),
                timeout=float(data.get(CONF_ANALYSIS_TIMEOUT, 60)),
                activity_types=activities,
                base_prompt=base_prompt,
                frames=frames,
            ),
            async_get_clientsession(hass),
            hass.async_add_executor_job,
            camera_context,
        )
    elif kind == ANALYZER_AI_TASK:
        inner = AITaskAnalyzer(
            hass,
            str(data[CONF_AI_TASK_ENTITY]),
            Path(hass.config.path(FRAMES_PATH)),
            camera_context,
            frames=frames,
            activity_types=activities,
            base_prompt=base_prompt,
        )
    else:
        return None
    return BudgetedAnalyzer(inner, budget, now)


def activity_types(data: Mapping[str, Any]) -> list[str]:
    """The activity types the analyzer chooses from (always with ``other``)."""
    types = list(data.get(CONF_ACTIVITY_TYPES) or DEFAULT_ACTIVITY_TYPES)
    return types if "other" in types else [*types, "other"]
