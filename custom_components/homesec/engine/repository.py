"""ClipRepository: the only writer of clip states and events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging

from .interfaces import StateStore
from .models import ClipEvent, ClipState
from .text import first_line

_LOGGER = logging.getLogger(__name__)


class ClipRepository:
    """Best-effort persistence: a store outage degrades to logging.

    One error is logged when the store goes away and one line when it is back;
    callers never see an exception.
    """

    def __init__(self, store: StateStore) -> None:
        """Wrap the store; the schema is created on first use."""
        self._store = store
        self._started = False
        self._healthy = True

    @property
    def healthy(self) -> bool:
        """Whether the last operation on the store succeeded."""
        return self._healthy

    async def start(self) -> None:
        """Create or migrate the schema now if the store is reachable."""
        await self._run(self._ensure_started)

    async def save(self, state: ClipState) -> None:
        """Insert or replace a clip's state."""
        await self._run(lambda: self._store.upsert_state(state))

    async def record(self, event: ClipEvent) -> None:
        """Append a lifecycle event."""
        await self._run(lambda: self._store.append_event(event))

    async def get(self, clip_id: str) -> ClipState | None:
        """Return a clip's state, or None when unknown or unreachable."""
        result: list[ClipState | None] = [None]

        async def _get() -> None:
            result[0] = await self._store.get_state(clip_id)

        await self._run(_get)
        return result[0]

    async def close(self) -> None:
        """Close the store."""
        await self._store.close()

    async def _ensure_started(self) -> None:
        if not self._started:
            await self._store.start()
            self._started = True

    async def _run(self, operation: Callable[[], Awaitable[None]]) -> None:
        try:
            await self._ensure_started()
            await operation()
        except Exception as err:  # noqa: BLE001 - any store failure degrades
            if self._healthy:
                _LOGGER.error(  # noqa: TRY400 - one line, no traceback spam
                    "State store unavailable, continuing without it: %s: %s",
                    type(err).__name__,
                    first_line(err),
                )
            self._healthy = False
            return
        if not self._healthy:
            _LOGGER.info("State store is back")
        self._healthy = True
