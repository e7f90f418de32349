"""HomeSecRuntime: builds the engine from a config entry and runs it."""

from __future__ import annotations

from dataclasses import dataclass
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .adapters.event_bus import BusAlertNotifier, fire_detection
from .adapters.persistent_notification import PersistentNotificationNotifier
from .const import (
    CONF_CAMERA_ID,
    CONF_MIN_RISK_LEVEL,
    CONF_NOTIFY_ON_ACTIVITY_TYPES,
    CONF_NOTIFY_ON_MOTION,
    CONF_SETTLE_SECONDS,
    CONF_SOURCE_TYPE,
    CONF_SQLITE_PATH,
    CONF_STORAGE_PATH,
    CONF_TRIGGER_CLASSES,
    CONF_WATCH_FOLDER,
    DEFAULT_SETTLE_SECONDS,
    DEFAULT_SQLITE_PATH,
    DEFAULT_STORAGE_PATH,
    SOURCE_FOLDER,
    SPOOL_PATH,
    SUBENTRY_CAMERA,
    camera_signal,
)
from .engine.detect.motion import MotionDetector, MotionSettings
from .engine.interfaces import ClipSource
from .engine.models import ClipDetected, LifecycleEvent, RiskLevel
from .engine.pipeline import ClipPipeline, PipelineSettings
from .engine.policy import DefaultAlertPolicy, PolicyOverrides, PolicySettings
from .engine.repository import ClipRepository
from .engine.sources.folder import FolderSettings, FolderSource
from .engine.spool import Spool
from .engine.state.sqlalchemy_store import SQLAlchemyStateStore, sqlite_url
from .engine.storage.local import LocalStorage

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry, ConfigSubentry

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CameraConfig:
    """One camera, from its config subentry."""

    subentry_id: str
    camera_id: str
    title: str
    source_type: str
    data: dict[str, Any]

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> CameraConfig:
        """Read a camera subentry."""
        return cls(
            subentry_id=subentry.subentry_id,
            camera_id=subentry.data[CONF_CAMERA_ID],
            title=subentry.title,
            source_type=subentry.data[CONF_SOURCE_TYPE],
            data=dict(subentry.data),
        )


class HomeSecRuntime:
    """The engine of one hub, started and stopped with its config entry."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[HomeSecRuntime]) -> None:
        """Read the entry; nothing starts until ``async_start``."""
        self.hass = hass
        self.entry = entry
        self.cameras: dict[str, CameraConfig] = {
            camera.camera_id: camera
            for camera in (
                CameraConfig.from_subentry(subentry)
                for subentry in entry.subentries.values()
                if subentry.subentry_type == SUBENTRY_CAMERA
            )
        }
        data = entry.data
        run = hass.async_add_executor_job
        self.spool = Spool(Path(hass.config.path(SPOOL_PATH)))
        self.storage_root = Path(
            hass.config.path(data.get(CONF_STORAGE_PATH, DEFAULT_STORAGE_PATH))
        )
        self.database_path = Path(
            hass.config.path(data.get(CONF_SQLITE_PATH, DEFAULT_SQLITE_PATH))
        )
        self.repository = ClipRepository(
            SQLAlchemyStateStore(sqlite_url(self.database_path))
        )
        self.policy = DefaultAlertPolicy(
            PolicySettings(
                min_risk_level=RiskLevel(data.get(CONF_MIN_RISK_LEVEL, "high")),
                notify_on_activity_types=frozenset(
                    data.get(CONF_NOTIFY_ON_ACTIVITY_TYPES, [])
                ),
                notify_on_motion=data.get(CONF_NOTIFY_ON_MOTION, False),
            ),
            {
                camera.camera_id: PolicyOverrides(
                    notify_on_motion=camera.data.get(CONF_NOTIFY_ON_MOTION)
                )
                for camera in self.cameras.values()
            },
        )
        settings = PipelineSettings()
        if CONF_TRIGGER_CLASSES in data:
            settings = PipelineSettings(
                trigger_classes=frozenset(data[CONF_TRIGGER_CLASSES])
            )
        self.pipeline = ClipPipeline(
            storage=LocalStorage(self.storage_root, run),
            detector=MotionDetector(MotionSettings(), run),
            analyzer=None,
            policy=self.policy,
            notifiers=[
                BusAlertNotifier(hass),
                PersistentNotificationNotifier(hass, self.camera_title),
            ],
            repository=self.repository,
            listener=self._on_lifecycle,
            settings=settings,
        )
        self.sources: dict[str, ClipSource] = {}

    def camera_title(self, camera_id: str) -> str:
        """The display name of a camera."""
        camera = self.cameras.get(camera_id)
        return camera.title if camera else camera_id

    async def async_start(self) -> None:
        """Prepare folders and the state store (the store may be down)."""
        await self.hass.async_add_executor_job(self._make_folders)
        await self.repository.start()

    async def async_start_sources(self) -> None:
        """Start every camera's clip source (after entities subscribed)."""
        for camera in self.cameras.values():
            source = self._build_source(camera)
            self.sources[camera.camera_id] = source
            await source.start(self.pipeline.submit)

    async def async_stop(self) -> None:
        """Stop sources, cancel clips in flight (they stay spooled), close all."""
        while self.sources:
            _, source = self.sources.popitem()
            await source.stop()
        await self.pipeline.stop()
        await self.repository.close()

    def _make_folders(self) -> None:
        self.spool.root.mkdir(parents=True, exist_ok=True)
        self.storage_root.mkdir(parents=True, exist_ok=True)
        self.database_path.parent.mkdir(parents=True, exist_ok=True)

    def _build_source(self, camera: CameraConfig) -> ClipSource:
        if camera.source_type != SOURCE_FOLDER:
            msg = f"unsupported source type {camera.source_type}"
            raise ValueError(msg)
        settle = float(camera.data.get(CONF_SETTLE_SECONDS, DEFAULT_SETTLE_SECONDS))
        return FolderSource(
            camera.camera_id,
            FolderSettings(
                watch_dir=Path(camera.data[CONF_WATCH_FOLDER]),
                settle_seconds=settle,
                poll_seconds=min(1.0, settle / 2),
            ),
            self.spool,
            self.hass.async_add_executor_job,
        )

    @callback
    def _on_lifecycle(self, event: LifecycleEvent) -> None:
        if isinstance(event, ClipDetected):
            fire_detection(self.hass, event.clip, event.result)
        async_dispatcher_send(
            self.hass,
            camera_signal(self.entry.entry_id, event.clip.camera_name),
            event,
        )
