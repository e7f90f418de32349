"""Free disk guard: trim what is safe when space runs low, stop before it runs out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .disk_space import disk_free, existing
from .interfaces import BlockingRunner, Storage
from .repository import ClipRepository
from .retention import RetentionPlan, RetentionSettings, apply_retention
from .spool import Spool
from .store_retention import StoreRetentionSettings, apply_store_retention

_LOGGER = logging.getLogger(__name__)

type FreeSpace = Callable[[Path], int]
"""Free bytes of the disk holding a folder (blocking): the guard's only seam."""


def same_disk(first: Path, second: Path) -> bool:
    """Whether two folders are on one file system (blocking)."""
    return existing(first).stat().st_dev == existing(second).stat().st_dev


class DiskGuardSettings(BaseModel):
    """Free space below ``low_bytes`` trims; below ``floor_bytes`` stops recording."""

    model_config = ConfigDict(frozen=True)

    low_bytes: int = Field(default=3 * 1024**3, ge=0)
    floor_bytes: int = Field(default=1536 * 1024**2, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> DiskGuardSettings:
        if self.floor_bytes > self.low_bytes:
            msg = "the floor must not be above the low-space threshold"
            raise ValueError(msg)
        return self

    @property
    def resume_bytes(self) -> int:
        """Free space needed to record again after stopping (between the two)."""
        return (self.low_bytes + self.floor_bytes) // 2


class DiskLevel(StrEnum):
    """How much room the disks holding HomeSec's clips have."""

    OK = "ok"
    LOW = "low"
    """Below the threshold: trimming, repair issue raised."""
    FULL = "full"
    """Below the floor: new recordings are refused."""


def next_level(
    previous: DiskLevel, free: int, settings: DiskGuardSettings
) -> DiskLevel:
    """The level for ``free`` bytes; once full, recording resumes above halfway."""
    if free < settings.floor_bytes:
        return DiskLevel.FULL
    if previous is DiskLevel.FULL and free < settings.resume_bytes:
        return DiskLevel.FULL
    if free < settings.low_bytes:
        return DiskLevel.LOW
    return DiskLevel.OK


@dataclass(frozen=True, slots=True)
class StoreFigures:
    """What the hub's sensors show after a pass (None: not known yet)."""

    spool_bytes: int | None = None
    store_bytes: int | None = None
    """The clip store's size (for a remote storage, what HomeSec stored there)."""
    free_bytes: int | None = None
    """Free space of the fullest disk holding the spool or the local store."""
    level: DiskLevel = DiskLevel.OK


@dataclass(frozen=True, slots=True)
class Housekept:
    """The folders and parts a housekeeping pass works on."""

    spool: Spool
    storage: Storage
    repository: ClipRepository
    local_root: Path | None
    """The local store's folder (None: the storage is remote)."""
    run_blocking: BlockingRunner
    busy: Callable[[str], bool]


class Housekeeping:
    """Applies retention to the spool and the store, and guards free space."""

    def __init__(
        self,
        parts: Housekept,
        store_limits: StoreRetentionSettings | None,
        guard: DiskGuardSettings,
        free_space: FreeSpace | None = None,
    ) -> None:
        """``store_limits`` None: the store is only measured, never trimmed."""
        self._parts = parts
        self.store_limits = store_limits
        self.guard = guard
        self.free_space = free_space
        """The seam measuring a disk (None: ``disk_free``; tests fill a disk here)."""
        self.figures = StoreFigures()

    @property
    def level(self) -> DiskLevel:
        """The disk level of the last pass."""
        return self.figures.level

    async def retention(self, now: datetime, spool: RetentionPlan) -> StoreFigures:
        """After the spool's retention ``spool``: the store's, then the disk guard."""
        self.figures = _with(
            self.figures, spool_bytes=spool.spool_bytes - spool.freed_bytes
        )
        await self._store_pass(now, self.store_limits)
        return await self.guard_disks(now)

    async def guard_disks(self, now: datetime) -> StoreFigures:
        """Measure free space; below the threshold trim what is safe to delete.

        Safe: spool clips already stored and done (oldest first), then stored
        clips without an alert (local store on a low disk only). A clip that
        is not stored is never deleted.
        """
        try:
            free = await self._measure()
            if min(free.values()) < self.guard.low_bytes:
                free = await self._trim(now, free)
        except OSError as err:  # a disk that cannot be measured is not judged
            _LOGGER.warning("Cannot measure or trim the disk for clips: %s", err)
            return self.figures
        lowest = min(free.values())
        level = next_level(self.figures.level, lowest, self.guard)
        if level is not self.figures.level:
            log = _LOGGER.info if level is DiskLevel.OK else _LOGGER.warning
            log("Free disk space for clips: %d MB (%s)", lowest // 2**20, level)
        spool_bytes = self.figures.spool_bytes
        if spool_bytes is None:
            entries = await self._parts.run_blocking(self._parts.spool.entries)
            spool_bytes = sum(entry.size for entry in entries)
        self.figures = StoreFigures(
            spool_bytes=spool_bytes,
            store_bytes=self.figures.store_bytes,
            free_bytes=lowest,
            level=level,
        )
        return self.figures

    async def _measure(self) -> dict[Path, int]:
        """Free bytes of the spool's disk (and the local store's if different)."""
        p = self._parts
        folders = [p.spool.root]
        if p.local_root is not None and not await p.run_blocking(
            same_disk, p.spool.root, p.local_root
        ):
            folders.append(p.local_root)
        measure = self.free_space or disk_free
        return {folder: await p.run_blocking(measure, folder) for folder in folders}

    async def _trim(self, now: datetime, free: dict[Path, int]) -> dict[Path, int]:
        p = self._parts
        spool_disk = p.spool.root
        needed = self.guard.low_bytes - free[spool_disk]
        if needed > 0:
            entries = await p.run_blocking(p.spool.entries)
            size = sum(entry.size for entry in entries)
            tighter = RetentionSettings(max_bytes=max(0, size - needed), max_age=None)
            plan = await apply_retention(
                p.spool, p.repository, tighter, p.run_blocking, now,
                busy=p.busy, reason="disk",
            )  # fmt: skip
            self.figures = _with(self.figures, spool_bytes=size - plan.freed_bytes)
        if p.local_root is None:
            return await self._measure()
        free = await self._measure()
        store_disk = p.local_root if p.local_root in free else spool_disk
        needed = self.guard.low_bytes - free[store_disk]
        store_bytes = self.figures.store_bytes
        if needed > 0 and store_bytes is not None:
            limits = self.store_limits or StoreRetentionSettings(
                max_bytes=None, max_age=None, alerted_max_age=None
            )
            tighter_store = limits.model_copy(
                update={"max_bytes": max(0, store_bytes - needed)}
            )
            await self._store_pass(now, tighter_store, disk=True)
            free = await self._measure()
        return free

    async def _store_pass(
        self,
        now: datetime,
        limits: StoreRetentionSettings | None,
        *,
        disk: bool = False,
    ) -> int | None:
        """Trim the store to ``limits`` (None: only measure); its size after."""
        p = self._parts
        if limits is None:
            try:
                copies = await p.storage.stored()
            except Exception as err:  # noqa: BLE001 - size unknown this pass
                _LOGGER.debug("Cannot list the stored clips: %s", err)
                return self.figures.store_bytes
            size: int | None = sum(copy.size for copy in copies)
        else:
            plan = await apply_store_retention(
                p.storage, p.repository, limits, p.run_blocking, now,
                busy=p.busy, spare_alerted=disk, reason="disk" if disk else "retention",
            )  # fmt: skip
            size = plan.remaining_bytes
            if plan.unreachable is not None:
                _LOGGER.debug("Stored clips kept this pass: %s", plan.unreachable)
                if not plan.store_bytes:  # not listed: the size is not known
                    size = self.figures.store_bytes
        self.figures = _with(self.figures, store_bytes=size)
        return size


def _with(figures: StoreFigures, **changes: int | None) -> StoreFigures:
    return StoreFigures(
        spool_bytes=changes.get("spool_bytes", figures.spool_bytes),
        store_bytes=changes.get("store_bytes", figures.store_bytes),
        free_bytes=figures.free_bytes,
        level=figures.level,
    )
