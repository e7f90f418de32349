"""A hub made from its config entry: settings, engine and collaborators."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .adapters.alert_text import AlertWording
from .builder import Wiring, async_build_engine, housekeeping, retention
from .camera_controls import CameraControls
from .camera_settings import cameras_of
from .clip_access import ClipAccess
from .const import camera_signal, hub_signal
from .data import Cameras, HomeSecData
from .engine.errors import DetectorUnavailable
from .engine.interfaces import ClipSource
from .engine.models import LifecycleEvent
from .hub_health import CredentialRefusals, HubHealth
from .links import async_link_signer
from .persisted_state import PersistedState
from .runtime import HomeSecRuntime
from .settings import HubSettings


async def async_create_hub(hass: HomeAssistant, entry: ConfigEntry) -> HomeSecData:
    """Parse the entry, build the engine and its collaborators; nothing runs yet."""
    settings = HubSettings.from_entry(entry)
    cameras = Cameras(cameras_of(entry))
    controls = CameraControls(hass, cameras)
    refusals = CredentialRefusals(hass, entry)
    health: HubHealth | None = None

    @callback
    def storage_failed(err: Exception) -> None:
        if health is not None:
            health.storage_failed(err)

    @callback
    def detector_status(down: DetectorUnavailable | None) -> None:
        if health is not None:
            health.detector_status(down)

    wording = AlertWording(hass)
    await wording.async_load()
    entry.async_on_unload(wording.async_follow_language())
    links = await async_link_signer(hass, entry.entry_id)
    engine = await async_build_engine(
        hass,
        entry.entry_id,
        settings,
        cameras,
        Wiring(
            detection_on=controls.detection_on,
            notifications_on=controls.notifications_on,
            on_rejected=refusals.rejected,
            on_storage_failure=storage_failed,
            on_detector_status=detector_status,
            listener=dispatcher(hass, entry.entry_id),
            wording=wording,
            links=links,
        ),
    )
    sources: dict[str, ClipSource] = {}
    health = HubHealth(hass, entry, cameras, engine, refusals)
    health.watch(sources)
    clips = ClipAccess(hass, cameras, engine, sources)
    runtime = HomeSecRuntime(
        hass,
        entry,
        settings=settings,
        cameras=cameras,
        engine=engine,
        retention=retention(settings),
        housekeeping=housekeeping(hass, settings, engine),
        collaborators=(controls, health, clips),
        sources=sources,
        persisted=PersistedState(
            hass,
            entry.entry_id,
            engine.budget,
            engine.policy,
            controls,
            stationary=engine.stationary,
        ),
        history_max_age=settings.history_max_age,
    )
    return HomeSecData(
        settings=settings,
        cameras=cameras,
        engine=engine,
        controls=controls,
        health=health,
        clips=clips,
        runtime=runtime,
        links=links,
    )


def dispatcher(hass: HomeAssistant, entry_id: str) -> Callable[[LifecycleEvent], None]:
    """Hand each clip event to the camera's entities and the hub's."""

    @callback
    def _dispatch(event: LifecycleEvent) -> None:
        camera_id = event.clip.camera_name
        async_dispatcher_send(hass, camera_signal(entry_id, camera_id), event)
        async_dispatcher_send(hass, hub_signal(entry_id))

    return _dispatch
