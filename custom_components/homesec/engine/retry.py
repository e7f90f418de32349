"""Bounded retries with exponential backoff (never a loop without end)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .errors import CredentialsRejected, StageError
from .models import ClipState, Stage, StageState, StageStatus
from .text import describe

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
    retry_on: type[Exception] = Exception,
) -> T:
    """Run ``operation`` up to ``max_attempts`` times; re-raise the last error.

    Only errors of ``retry_on`` are retried. Refused credentials never are:
    they fail the same way until replaced.
    """
    attempt = 1
    while True:
        if on_attempt is not None:
            on_attempt(attempt)
        try:
            return await operation()
        except CredentialsRejected:
            raise
        except retry_on:
            if attempt >= settings.max_attempts:
                raise
        await sleep(settings.delay(attempt))
        attempt += 1


@dataclass(frozen=True, slots=True)
class StageFailed:
    """A stage's last attempt ended with ``error`` (a value may be an exception)."""

    error: Exception


async def run_stage[T](
    record: StageState,
    operation: Callable[[], Awaitable[T]],
    retry: RetrySettings,
    *,
    limit: asyncio.Semaphore,
    now: Callable[[], datetime],
    sleep: Sleep,
    retry_on: type[Exception] = Exception,
) -> T | StageFailed:
    """Run one pipeline stage within ``limit``, retried; record it in ``record``.

    Returns the stage's value, or what ended its last attempt.
    """
    record.status = StageStatus.RUNNING
    record.started_at = now()

    def _count(_: int) -> None:
        record.attempts += 1

    async def _limited() -> T:
        async with limit:
            return await operation()

    try:
        value = await with_retries(_limited, retry, _count, sleep, retry_on)
    except Exception as err:  # noqa: BLE001 - stage errors are values
        record.status = StageStatus.FAILED
        record.error = describe(err)
        record.finished_at = now()
        return StageFailed(err)
    record.status = StageStatus.DONE
    record.error = None
    record.finished_at = now()
    return value


class StageRunner:
    """Runs a clip's stages within their limits; a failure becomes an error value."""

    def __init__(
        self,
        limits: dict[Stage, asyncio.Semaphore],
        now: Callable[[], datetime],
        sleep: Sleep,
    ) -> None:
        """Hold each stage's concurrency limit, the clock and the backoff sleep."""
        self.limits = limits
        self.now = now
        self.sleep = sleep

    async def run[T, E: StageError](
        self,
        state: ClipState,
        stage: Stage,
        operation: Callable[[], Awaitable[T]],
        error_type: type[E],
        retry: RetrySettings,
        *,
        retry_on: type[Exception] = Exception,
    ) -> T | E:
        """Run ``stage`` of the clip; its last failure as an ``error_type`` value."""
        result = await run_stage(
            state.stages[stage],
            operation,
            retry,
            limit=self.limits[stage],
            now=self.now,
            sleep=self.sleep,
            retry_on=retry_on,
        )
        if isinstance(result, StageFailed):
            error = result.error
            return error_type(state.clip_id, describe(error), error)
        return result
