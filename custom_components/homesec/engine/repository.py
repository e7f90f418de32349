"""ClipRepository: the only writer of clip states and events."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Set as AbstractSet
from datetime import datetime
from functools import partial
import logging
import time

from .faults import Fault, fault_of
from .interfaces import HistoryPruned, StateStore
from .models import ClipEvent, ClipState
from .pending_journal import PendingJournal, PendingWrites
from .state.clean import clean_text
from .text import count, describe, first_line

_LOGGER = logging.getLogger(__name__)

MAX_PENDING_STATES = 10_000
MAX_PENDING_EVENTS = 20_000
PRUNE_BATCH_ROWS = 500
PRUNE_MAX_BATCHES = 200
"""At most 100,000 rows per pass; a larger backlog goes over the next passes."""


class ClipRepository:
    """Write-behind, best-effort persistence: clips never wait on the database.

    ``save`` and ``record`` queue the write and return; one flusher task writes
    everything pending in a single transaction. While the store is unreachable
    the latest state of each clip and the newest events stay queued (bounded)
    and are written once it is back. One error is logged when it goes away and
    one line when it returns; callers never see an exception. Reconnection is
    tried at most every ``retry_interval`` seconds. What is still pending at
    ``close`` goes to the ``journal`` and is queued again at the next ``start``.
    """

    def __init__(
        self,
        store: StateStore,
        retry_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        journal: PendingJournal | None = None,
    ) -> None:
        """Wrap the store; the schema is created on first use."""
        self._store = store
        self._journal = journal
        self._journal_queued = False
        self._retry_interval = retry_interval
        self._clock = clock
        self._started = False
        self._healthy = True
        self._next_try = 0.0
        self._states: dict[str, ClipState] = {}
        self._events: deque[ClipEvent] = deque(maxlen=MAX_PENDING_EVENTS)
        self._lock = asyncio.Lock()
        self._operations: set[asyncio.Future[bool]] = set()
        self._wake = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._dropping_reported = False
        self.last_error: str | None = None
        self.last_fault: Fault | None = None
        """The kind of ``last_error``, for users."""
        self.credentials_rejected = False
        """Whether the last failure was the server refusing the credentials."""

    @property
    def healthy(self) -> bool:
        """Whether the last operation on the store succeeded."""
        return self._healthy

    @property
    def pending(self) -> int:
        """Writes waiting to be written."""
        return len(self._states) + len(self._events)

    async def start(self) -> bool:
        """Queue what the last stop left, create or migrate the schema now.

        Returns whether the store answered.
        """
        if self._journal is not None and (left := await self._journal.load()):
            for state in left.states:
                self._states.setdefault(state.clip_id, state)
            self._events.extendleft(reversed(left.events))
            self._journal_queued = True
            _LOGGER.info(
                "%s and %s from before the restart are queued",
                count(len(left.states), "clip state"),
                count(len(left.events), "event"),
            )
        return await self._run(None)

    async def save(self, state: ClipState) -> None:
        """Queue a clip's state (the latest one per clip is written)."""
        if len(self._states) < MAX_PENDING_STATES or state.clip_id in self._states:
            self._states[state.clip_id] = state.model_copy(deep=True)
        else:
            self._report_dropping()
        self._schedule()

    async def record(self, event: ClipEvent) -> None:
        """Queue a lifecycle event."""
        if len(self._events) == self._events.maxlen:
            self._report_dropping()
        self._events.append(event)
        self._schedule()

    async def flush(self) -> bool:
        """Write everything pending now; return whether the store took it."""
        return await self._run(None)

    async def get(self, clip_id: str) -> ClipState | None:
        """Return a clip's state (pending writes first), None when unknown."""
        if clip_id in self._states:
            return self._states[clip_id].model_copy(deep=True)
        return await self._read(lambda: self._store.get_state(clip_id))

    async def get_many(self, clip_ids: list[str]) -> dict[str, ClipState] | None:
        """Return the known states of ``clip_ids``; None when unreachable."""
        found = await self._read(lambda: self._store.get_states(clip_ids))
        if found is None:
            return None
        for clip_id in clip_ids:
            if clip_id in self._states:
                found[clip_id] = self._states[clip_id]
        return found

    async def clip_ids(self, camera_name: str) -> list[str] | None:
        """Every clip id of a camera; None when the store is unreachable."""
        return await self._read(lambda: self._store.clip_ids(camera_name))

    async def recent(
        self, camera_name: str | None, limit: int
    ) -> list[ClipState] | None:
        """The newest clip states (pending writes included); None if unreachable."""
        return await self._read(lambda: self._store.recent_states(camera_name, limit))

    async def prune_history(
        self,
        before: datetime,
        keep: AbstractSet[str],
        batch_rows: int = PRUNE_BATCH_ROWS,
    ) -> HistoryPruned | None:
        """Delete history older than ``before`` in short batches; None if down.

        Never the history of a clip in ``keep`` (the spool) or unfinished. Each
        batch is its own transaction, taken between pending writes, so the
        database is never held for long and clips keep being recorded.
        """
        progress = HistoryPruned()
        for _ in range(PRUNE_MAX_BATCHES):
            found = await self._read(
                partial(self._store.prune_history, before, keep, batch_rows, progress)
            )
            if found is None:
                return None
            progress = found
            if progress.done:
                break
        return progress

    async def _read[T](self, query: Callable[[], Awaitable[T]]) -> T | None:
        """Flush pending writes, then run ``query``; None when unreachable."""
        found: list[T] = []

        async def _capture() -> None:
            found.append(await query())

        if not await self._run(_capture):
            return None
        return found[0]

    async def close(self) -> None:
        """Stop the flusher, write what is pending if possible, close the store."""
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        await asyncio.gather(*self._operations, return_exceptions=True)
        if self.pending and self._healthy:
            await self._run(None)
        if self.pending and self._journal is not None:
            await self._journal.save(
                PendingWrites(
                    states=list(self._states.values()), events=list(self._events)
                )
            )
            _LOGGER.info(
                "%s kept for the next start", count(self.pending, "history write")
            )
        await self._store.close()

    def _schedule(self) -> None:
        self._wake.set()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(
                self._flush_forever(), name="homesec state writer"
            )

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not await self._run(None):
                # Unreachable: try again when the retry interval has passed.
                await asyncio.sleep(max(0.0, self._next_try - self._clock()))
                if self.pending:
                    self._wake.set()

    def _report_dropping(self) -> None:
        if not self._dropping_reported:
            _LOGGER.warning(
                "State store backlog is full; the oldest pending history is dropped"
            )
            self._dropping_reported = True

    async def _flush(self) -> None:
        if not self._started:
            await self._store.start()
            self._started = True
        if self._states or self._events:
            await self._write([*self._states.values(), *self._events])
            self._dropping_reported = False
        if self._journal_queued and self._journal is not None:
            await self._journal.clear()  # its writes are in the store now
            self._journal_queued = False

    async def _write(self, rows: list[ClipState | ClipEvent]) -> None:
        """Write ``rows`` in one transaction; isolate the ones the store refuses.

        A refused batch is halved until each refused row is alone: that row is
        dropped with one warning and every other row is written. Rows leave the
        queue as soon as they are written or dropped.
        """
        try:
            await self._store.write(
                [row for row in rows if isinstance(row, ClipState)],
                [row for row in rows if isinstance(row, ClipEvent)],
            )
        except Exception as err:
            if not self._store.refuses(err):
                raise
            if len(rows) > 1:
                middle = len(rows) // 2
                await self._write(rows[:middle])
                await self._write(rows[middle:])
                return
            self._report_refused(rows[0], err)
        self._forget(rows)

    def _forget(self, rows: list[ClipState | ClipEvent]) -> None:
        """Take written (or refused) rows off the queue, unless replaced since."""
        for row in rows:
            if isinstance(row, ClipState):
                if self._states.get(row.clip_id) is row:
                    del self._states[row.clip_id]
            elif self._events and self._events[0] is row:
                self._events.popleft()

    @staticmethod
    def _report_refused(row: ClipState | ClipEvent, err: Exception) -> None:
        what = "state" if isinstance(row, ClipState) else f"{row.event_type} event"
        _LOGGER.warning(
            "The state store refused the %s of clip %s, which is not saved "
            "(later writes go on): %s",
            what,
            clean_text(row.clip_id),
            clean_text(describe(err)),
        )

    async def _run(self, read: Callable[[], Awaitable[None]] | None) -> bool:
        """Flush pending writes (and read); shielded from the caller's cancel.

        A database operation interrupted half-way can leave its connection
        checked out and open, so it always completes; ``close`` waits for it.
        """
        operation = asyncio.ensure_future(self._locked(read))
        self._operations.add(operation)
        operation.add_done_callback(self._operations.discard)
        return await asyncio.shield(operation)

    async def _locked(self, read: Callable[[], Awaitable[None]] | None) -> bool:
        if not self._healthy and self._clock() < self._next_try:
            return False
        try:
            async with self._lock:
                await self._flush()
                if read is not None:
                    await read()
        except Exception as err:  # noqa: BLE001 - any store failure degrades
            self.last_error = f"{type(err).__name__}: {first_line(err)}"
            self.credentials_rejected = self._store.rejects_credentials(err)
            self.last_fault = (
                Fault.AUTH_FAILED if self.credentials_rejected else fault_of(err)
            )
            if self._healthy:
                _LOGGER.error(  # noqa: TRY400 - one line, no traceback spam
                    "State store unavailable, continuing without it: %s",
                    self.last_error,
                )
            self._healthy = False
            self._next_try = self._clock() + self._retry_interval
            return False
        if not self._healthy:
            _LOGGER.info("State store is back; pending writes were saved")
        self._healthy = True
        self.last_error = self.last_fault = None
        self.credentials_rejected = False
        return True
