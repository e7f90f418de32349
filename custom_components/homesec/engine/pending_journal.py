"""Writes the state store did not take before a stop, kept on disk until it does."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .interfaces import BlockingRunner
from .models import ClipEvent, ClipState
from .text import count

_LOGGER = logging.getLogger(__name__)


class PendingWrites(BaseModel):
    """The clip states and events still to write."""

    states: list[ClipState] = []
    events: list[ClipEvent] = []


class PendingJournal:
    """One JSON file next to the spool: written at a stop, read at the next start.

    Without it, a restart while the database is down would forget which
    outputs had an alert and which clips were stored, and send or store them
    again. A file that cannot be read is set aside with one warning.
    """

    def __init__(self, path: Path, run_blocking: BlockingRunner) -> None:
        """Keep the journal at ``path``."""
        self.path = path
        self._run = run_blocking

    async def save(self, pending: PendingWrites) -> None:
        """Write the pending writes whole (a crash leaves the old file or none)."""
        await self._run(self._write, pending.model_dump_json().encode())

    async def load(self) -> PendingWrites | None:
        """The writes saved at the last stop, or None."""
        data = await self._run(self._read)
        if data is None:
            return None
        try:
            return PendingWrites.model_validate_json(data)
        except ValidationError as err:
            _LOGGER.warning(
                "Pending history writes in %s cannot be read (%s); they are set aside",
                self.path.name,
                count(err.error_count(), "error"),
            )
            await self._run(self.path.replace, self.path.with_suffix(".unreadable"))
            return None

    async def clear(self) -> None:
        """Forget the journal once its writes are in the state store."""
        await self._run(self.path.unlink, True)

    def _write(self, data: bytes) -> None:
        partial = self.path.with_name(f".{self.path.name}.partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        partial.replace(self.path)

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
