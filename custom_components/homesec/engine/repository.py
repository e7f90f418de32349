"""ClipRepository: the only writer of clip states and events."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
import logging
import time

from .interfaces import StateStore
from .models import ClipEvent, ClipState
from .text import first_line

_LOGGER = logging.getLogger(__name__)

MAX_PENDING_STATES = 10_000
MAX_PENDING_EVENTS = 20_000


class ClipRepository:
    """Best-effort persistence: a store outage degrades to logging.

    While the store is unreachable, the latest state of each clip and the newest
    events are kept in memory (bounded) and written once it is back. One error is
    logged when it goes away and one line when it returns; callers never see an
    exception. Reconnection is tried at most every ``retry_interval`` seconds so
    an unreachable server does not slow every clip down.
    """

    def __init__(
        self,
        store: StateStore,
        retry_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Wrap the store; the schema is created on first use."""
        self._store = store
        self._retry_interval = retry_interval
        self._clock = clock
        self._started = False
        self._healthy = True
        self._next_try = 0.0
        self._states: dict[str, ClipState] = {}
        self._events: deque[ClipEvent] = deque(maxlen=MAX_PENDING_EVENTS)
        self._lock = asyncio.Lock()
        self._operations: set[asyncio.Future[bool]] = set()
        self.last_error: str | None = None

    @property
    def healthy(self) -> bool:
        """Whether the last operation on the store succeeded."""
        return self._healthy

    @property
    def pending(self) -> int:
        """Writes waiting for the store to come back."""
        return len(self._states) + len(self._events)

    async def start(self) -> bool:
        """Create or migrate the schema now; return whether the store answered."""
        return await self._run(None)

    async def save(self, state: ClipState) -> None:
        """Insert or replace a clip's state (a copy is kept while unreachable)."""
        snapshot = state.model_copy(deep=True)
        if len(self._states) < MAX_PENDING_STATES or state.clip_id in self._states:
            self._states[state.clip_id] = snapshot
        await self._run(None)

    async def record(self, event: ClipEvent) -> None:
        """Append a lifecycle event."""
        self._events.append(event)
        await self._run(None)

    async def get(self, clip_id: str) -> ClipState | None:
        """Return a clip's state (pending writes first), None when unknown."""
        if clip_id in self._states:
            return self._states[clip_id].model_copy(deep=True)
        found: list[ClipState | None] = [None]

        async def _get() -> None:
            found[0] = await self._store.get_state(clip_id)

        await self._run(_get)
        return found[0]

    async def get_many(self, clip_ids: list[str]) -> dict[str, ClipState] | None:
        """Return the known states of ``clip_ids``; None when unreachable."""
        found: dict[str, ClipState] = {}

        async def _get() -> None:
            found.update(await self._store.get_states(clip_ids))

        if not await self._run(_get):
            return None
        for clip_id in clip_ids:
            if clip_id in self._states:
                found[clip_id] = self._states[clip_id]
        return found

    async def close(self) -> None:
        """Finish running operations, try a last flush, then close the store."""
        await asyncio.gather(*self._operations, return_exceptions=True)
        if self.pending and self._healthy:
            await self._run(None)
        await self._store.close()

    async def _flush(self) -> None:
        if not self._started:
            await self._store.start()
            self._started = True
        while self._states:
            clip_id, state = next(iter(self._states.items()))
            await self._store.upsert_state(state)
            if self._states.get(clip_id) is state:
                del self._states[clip_id]
        while self._events:
            await self._store.append_event(self._events[0])
            self._events.popleft()

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
        self.last_error = None
        return True
