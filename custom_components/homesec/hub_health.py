"""The hub's health: sources, state store, storage, refused credentials, repairs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import logging

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util import dt as dt_util

from .builder import Engine
from .const import (
    DETECTOR_REPAIR_AFTER,
    DOMAIN,
    ISSUE_DETECTOR_UNAVAILABLE,
    ISSUE_DISK_SPACE_LOW,
    ISSUE_RECORDING_STOPPED,
    ISSUE_SOURCE_FAILING,
    ISSUE_STATE_STORE_UNREACHABLE,
    SOURCE_FAILING_REPAIR_AFTER,
    STATE_STORE_REPAIR_AFTER,
    health_signal,
    hub_signal,
)
from .data import Cameras
from .engine.disk_guard import DiskLevel, StoreFigures
from .engine.errors import CredentialsRejected, DetectorUnavailable
from .engine.faults import Fault
from .engine.interfaces import ClipSource
from .user_errors import user_reason

_LOGGER = logging.getLogger(__name__)


class HealthStatus(StrEnum):
    """Overall state of the hub."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class Health:
    """The hub's status and the checks it is made of."""

    status: HealthStatus
    checks: dict[str, bool]


class CredentialRefusals:
    """Services that refused their stored credentials; asks the user once each."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Start a reauthentication of ``entry`` when a service refuses."""
        self._hass = hass
        self._entry = entry
        self._refused: set[str] = set()

    @property
    def services(self) -> list[str]:
        """The services that refused, sorted."""
        return sorted(self._refused)

    @callback
    def rejected(self, err: CredentialsRejected) -> None:
        """Ask the user for new credentials (once per service until reloaded)."""
        if err.service in self._refused:
            return
        self._refused.add(err.service)
        _LOGGER.warning(
            "Credentials refused (%s: %s); enter new ones where HomeSec asks "
            "in Settings > Devices & services",
            err.service,
            err,
        )
        self._entry.async_start_reauth(self._hass)


class HubHealth:
    """Follows what the hub depends on, tells entities, raises repair issues."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        cameras: Cameras,
        engine: Engine,
        refusals: CredentialRefusals,
    ) -> None:
        """Nothing is known to fail before the first check."""
        self._hass = hass
        self._entry = entry
        self._cameras = cameras
        self._repository = engine.repository
        self._storage = engine.storage
        self.refusals = refusals
        self._sources: Mapping[str, ClipSource] = {}
        self._source_health: dict[str, bool] = {}
        self._failing_since: dict[str, datetime] = {}
        self._storage_reachable = True
        self._detector_down: DetectorUnavailable | None = None
        self._detector_back: list[Callable[[], None]] = []
        self._disk_level = DiskLevel.OK

    @callback
    def watch(self, sources: Mapping[str, ClipSource]) -> None:
        """Follow the running sources (camera id -> source)."""
        self._sources = sources

    @property
    def storage_reachable(self) -> bool:
        """Whether the storage answered its last ping."""
        return self._storage_reachable

    @property
    def state_store_reachable(self) -> bool:
        """Whether the state store took the last write."""
        return self._repository.healthy

    @property
    def detector_available(self) -> bool:
        """Whether the detector answered its last scan."""
        return self._detector_down is None

    @callback
    def on_detector_back(self, action: Callable[[], None]) -> None:
        """Run ``action`` each time the detector answers again after an outage."""
        self._detector_back.append(action)

    @callback
    def detector_status(self, down: DetectorUnavailable | None) -> None:
        """The detector answered (None), or could not: logged once per outage."""
        if (down is None) == (self._detector_down is None):
            self._detector_down = down or self._detector_down
            return
        self._detector_down = down
        if down is not None:
            _LOGGER.warning(
                "The detector does not answer (%s); clips wait in the spool and "
                "are detected when it is back",
                down,
            )
        else:
            _LOGGER.info("The detector answers again; waiting clips are detected")
            for action in self._detector_back:
                action()
        self.changed()

    @callback
    def source_replaced(self, camera_id: str) -> None:
        """A camera's source was stopped for good or replaced: start afresh."""
        self._source_health.pop(camera_id, None)
        self._repair(
            f"{ISSUE_SOURCE_FAILING}_{camera_id}",
            failing=False,
            now=dt_util.utcnow(),
            after=SOURCE_FAILING_REPAIR_AFTER,
            translation_key=ISSUE_SOURCE_FAILING,
            placeholders={},
        )

    def source_healthy(self, camera_id: str) -> bool:
        """Whether the camera's source works (True before it started)."""
        return self._source_health.get(camera_id, True)

    def source_problem(self, camera_id: str) -> str | None:
        """What is wrong with a camera's source (None: nothing, or not running)."""
        source = self._sources.get(camera_id)
        return source.problem if source is not None else None

    def health(self) -> Health:
        """Healthy, degraded (store or a source failing) or unhealthy."""
        sources = {cid: src.healthy for cid, src in self._sources.items()}
        checks = {
            "state_store": self._repository.healthy,
            "detector": self._detector_down is None,
            **sources,
        }
        if self._disk_level is not DiskLevel.OK:
            checks["disk_space"] = False
        if sources and not any(sources.values()):
            status = HealthStatus.UNHEALTHY
        elif all(checks.values()):
            status = HealthStatus.HEALTHY
        else:
            status = HealthStatus.DEGRADED
        return Health(status=status, checks=checks)

    @callback
    def check(self, now: datetime) -> None:
        """Tell entities what changed; raise repair issues for long outages."""
        for camera_id, source in self._sources.items():
            healthy = source.healthy
            if self._source_health.get(camera_id, True) != healthy:
                self._source_health[camera_id] = healthy
                async_dispatcher_send(
                    self._hass, health_signal(self._entry.entry_id, camera_id)
                )
            self._repair(
                f"{ISSUE_SOURCE_FAILING}_{camera_id}",
                failing=not healthy,
                now=now,
                after=SOURCE_FAILING_REPAIR_AFTER,
                translation_key=ISSUE_SOURCE_FAILING,
                placeholders={
                    "camera": self._cameras.title(camera_id),
                    "problem": user_reason(self._hass, source.fault or Fault.UNKNOWN),
                },
                fix_data=self._camera_fix(camera_id),
            )
        if self._repository.credentials_rejected:
            self.refusals.rejected(
                CredentialsRejected("postgres", "Postgres refused the credentials")
            )
        self._repair(
            f"{ISSUE_DETECTOR_UNAVAILABLE}_{self._entry.entry_id}",
            failing=self._detector_down is not None,
            now=now,
            after=DETECTOR_REPAIR_AFTER,
            translation_key=ISSUE_DETECTOR_UNAVAILABLE,
            placeholders={
                "error": user_reason(self._hass, self._detector_down or Fault.UNKNOWN)
            },
        )
        self._repair(
            f"{ISSUE_STATE_STORE_UNREACHABLE}_{self._entry.entry_id}",
            failing=not self._repository.healthy,
            now=now,
            after=STATE_STORE_REPAIR_AFTER,
            translation_key=ISSUE_STATE_STORE_UNREACHABLE,
            placeholders={
                "error": user_reason(
                    self._hass, self._repository.last_fault or Fault.UNKNOWN
                )
            },
        )
        self.changed()

    def _camera_fix(self, camera_id: str) -> dict[str, str | int | float | None]:
        """What the fix of a camera's issue needs: its hub and subentry."""
        camera = self._cameras.get(camera_id)
        return {
            "entry_id": self._entry.entry_id,
            "subentry_id": camera.subentry_id if camera else None,
        }

    @callback
    def disk_status(self, figures: StoreFigures, floor_bytes: int) -> None:
        """Raise or clear the free space issues; tell the hub's entities."""
        self._disk_level = figures.level
        now = dt_util.utcnow()
        placeholders = {
            "free": _gigabytes(figures.free_bytes or 0),
            "floor": _gigabytes(floor_bytes),
        }
        self._repair(
            f"{ISSUE_DISK_SPACE_LOW}_{self._entry.entry_id}",
            failing=figures.level is DiskLevel.LOW,
            now=now,
            after=0,
            translation_key=ISSUE_DISK_SPACE_LOW,
            placeholders=placeholders,
            severity=ir.IssueSeverity.WARNING,
        )
        self._repair(
            f"{ISSUE_RECORDING_STOPPED}_{self._entry.entry_id}",
            failing=figures.level is DiskLevel.FULL,
            now=now,
            after=0,
            translation_key=ISSUE_RECORDING_STOPPED,
            placeholders=placeholders,
        )
        self.changed()

    @callback
    def changed(self) -> None:
        """Tell the hub's entities to read their values again."""
        async_dispatcher_send(self._hass, hub_signal(self._entry.entry_id))

    @callback
    def storage_failed(self, err: Exception) -> None:
        """A clip could not be stored: the storage counts as unreachable.

        It stays so until its next check answers; then what it missed is stored.
        """
        if isinstance(err, CredentialsRejected):
            self.refusals.rejected(err)
        if self._storage_reachable:
            self._storage_reachable = False
            self.changed()

    async def async_ping_storage(self, _: datetime | None = None) -> bool:
        """Check that the storage answers; True when it just came back."""
        try:
            reachable = await self._storage.ping()
        except CredentialsRejected as err:
            reachable = False
            self.refusals.rejected(err)
        except Exception:  # noqa: BLE001 - unreachable whatever the cause
            reachable = False
        came_back = reachable and not self._storage_reachable
        if reachable != self._storage_reachable:
            self._storage_reachable = reachable
            self.changed()
        return came_back

    @callback
    def _repair(
        self,
        issue_id: str,
        *,
        failing: bool,
        now: datetime,
        after: float,
        translation_key: str,
        placeholders: dict[str, str],
        severity: ir.IssueSeverity = ir.IssueSeverity.ERROR,
        fix_data: dict[str, str | int | float | None] | None = None,
    ) -> None:
        """Raise a repair issue once something has failed for ``after`` s.

        With ``fix_data``, the issue's Fix button opens what repairs it.
        """
        if not failing:
            if self._failing_since.pop(issue_id, None) is not None:
                ir.async_delete_issue(self._hass, DOMAIN, issue_id)
            return
        since = self._failing_since.setdefault(issue_id, now)
        if (now - since).total_seconds() >= after:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                issue_id,
                is_fixable=fix_data is not None,
                severity=severity,
                translation_key=translation_key,
                translation_placeholders=placeholders,
                data=fix_data,
            )


def _gigabytes(size: int) -> str:
    """A size for people: ``2.5 GB``."""
    return f"{size / 1024**3:.1f} GB"
