"""Bounded retries with exponential backoff (never a loop without end)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ConfigDict, Field

from .errors import CredentialsRejected

type Sleep = Callable[[float], Awaitable[None]]


class RetrySettings(BaseModel):
    """How often and how patiently a stage is retried."""

    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=3, ge=1, le=10)
    initial_delay: float = Field(default=2.0, ge=0)
    max_delay: float = Field(default=60.0, ge=0)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_delay, self.initial_delay * 2 ** (attempt - 1)))


async def with_retries[T](
    operation: Callable[[], Awaitable[T]],
    settings: RetrySettings,
    on_attempt: Callable[[int], None] | None = None,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run ``operation`` up to ``max_attempts`` times; re-raise the last error.

    Refused credentials are not retried: they fail the same way until replaced.
    """
    attempt = 1
    while True:
        if on_attempt is not None:
            on_attempt(attempt)
        try:
            return await operation()
        except CredentialsRejected:
            raise
        except Exception:
            if attempt >= settings.max_attempts:
                raise
        await sleep(settings.delay(attempt))
        attempt += 1
