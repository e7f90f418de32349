"""A clip's history as the pipeline writes it: its events, and who hears of them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import logging

from .models import Clip, ClipEvent, ClipEventType, LifecycleEvent
from .repository import ClipRepository

_LOGGER = logging.getLogger(__name__)

type LifecycleListener = Callable[[LifecycleEvent], None]


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class ClipHistory:
    """Records a clip's lifecycle events and tells the listener of its changes."""

    def __init__(
        self,
        repository: ClipRepository,
        clock: Callable[[], datetime],
        listener: LifecycleListener | None,
    ) -> None:
        """Write through ``repository``; stamp with ``clock``."""
        self._repo = repository
        self._now = clock
        self._listener = listener

    async def record(
        self, clip: Clip, event_type: ClipEventType, **detail: object
    ) -> None:
        """Write one event of the clip's history."""
        await self._repo.record(
            ClipEvent(
                clip_id=clip.clip_id,
                camera_name=clip.camera_name,
                event_type=event_type,
                ts=self._now(),
                detail=detail,
            )
        )

    def emit(self, event: LifecycleEvent) -> None:
        """Tell the listener (a failing listener is logged, never raised)."""
        if self._listener is None:
            return
        try:
            self._listener(event)
        except Exception:
            _LOGGER.exception("Lifecycle listener failed on %s", type(event).__name__)
