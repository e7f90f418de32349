"""The pipeline's outputs: the alert it builds, and its delivery to every output."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
import logging

from .errors import AnalysisSkipped, AnalyzeError, NotifyError, UploadError
from .interfaces import Notifier
from .models import (
    Alert,
    AlertDecision,
    AnalysisResult,
    Clip,
    ClipState,
    FilterResult,
    Stage,
    StageStatus,
    UploadOutcome,
)
from .retry import RetrySettings, Sleep, with_retries
from .text import describe, first_line

_LOGGER = logging.getLogger(__name__)

type ClipLinks = Callable[[Clip], tuple[str, str]]
"""Clip -> (snapshot URL, clip URL) where the outputs can fetch them."""
type ReasonWording = Callable[[AlertDecision], str]
"""A decision -> why it alerts, in the user's words (its log sentence without)."""


def make_alert(  # noqa: PLR0917 - one alert from every stage's outcome
    clip: Clip,
    upload: UploadOutcome | UploadError,
    detected: FilterResult,
    analysis: AnalysisResult | AnalyzeError | AnalysisSkipped | None,
    decision: AlertDecision,
    links: ClipLinks | None,
    wording: ReasonWording | None = None,
) -> Alert:
    """The alert of a clip, from what each stage gave."""
    stored = upload if isinstance(upload, UploadOutcome) else None
    summary = analysis if isinstance(analysis, AnalysisResult) else None
    snapshot_url, clip_url = links(clip) if links else (None, None)
    has_snapshot = detected.snapshot_jpeg is not None
    return Alert(
        clip_id=clip.clip_id,
        camera_name=clip.camera_name,
        storage_uri=stored.storage_uri if stored else None,
        view_url=stored.view_url if stored else None,
        snapshot_url=snapshot_url if has_snapshot else None,
        clip_url=clip_url,
        risk_level=summary.risk_level if summary else None,
        activity_type=summary.activity_type if summary else None,
        summary=summary.summary if summary else None,
        notify_reason=wording(decision) if wording else decision.reason,
        reason=decision.code,
        reason_params=decision.params,
        detected_classes=detected.detected_classes,
        confidence=detected.confidence,
        zones=detected.zones,
        ts=clip.start_ts,
        dedupe_key=clip.clip_id,
        upload_failed=stored is None,
        vlm_failed=isinstance(analysis, AnalyzeError),
    )


class Outputs:
    """Every output of the pipeline (bus, MQTT, notification targets...)."""

    def __init__(
        self, notifiers: Sequence[Notifier], now: Callable[[], datetime]
    ) -> None:
        """Deliver to ``notifiers``; ``now`` times the notify stage."""
        self._notifiers = list(notifiers)
        self._now = now

    def add(self, notifier: Notifier) -> None:
        """One more output, for the alerts from now on."""
        self._notifiers.append(notifier)

    async def tell(self, hook: Callable[[Notifier], Awaitable[None]]) -> None:
        """Run a best-effort hook of every output (a failing one stops none)."""

        async def _one(notifier: Notifier) -> None:
            try:
                await hook(notifier)
            except Exception as err:  # noqa: BLE001 - best effort, never retried
                _LOGGER.debug(
                    "%s did not take the news: %s", notifier.name, first_line(err)
                )

        await asyncio.gather(*(_one(n) for n in self._notifiers))

    async def deliver(
        self,
        state: ClipState,
        alert: Alert,
        *,
        limit: asyncio.Semaphore,
        retry: RetrySettings,
        sleep: Sleep,
        save: Callable[[ClipState], Awaitable[None]],
    ) -> tuple[int, list[NotifyError]] | None:
        """Deliver to every output not delivered yet, each retried on its own.

        Returns how many were delivered and the errors of those that failed,
        or None when every output had it already. The state's notify stage and
        its list of delivered outputs are kept up to date, and ``save`` runs after
        each delivery: a restart while another output still retries does not
        send the alert again to those that had it.
        """
        pending = [n for n in self._notifiers if n.name not in state.delivered]
        if not pending:
            return None
        stage = state.stages[Stage.NOTIFY]
        stage.status = StageStatus.RUNNING
        stage.started_at = self._now()

        def _count(_: int) -> None:
            stage.attempts += 1

        async def _one(notifier: Notifier) -> NotifyError | None:
            async def delivered() -> None:
                if notifier.name not in state.delivered:
                    state.delivered.append(notifier.name)
                    await save(state)

            try:
                async with limit:
                    await with_retries(
                        lambda: _landing(notifier.notify(alert), delivered),
                        retry,
                        _count,
                        sleep,
                    )
            except Exception as err:  # noqa: BLE001 - one notifier never stops others
                return NotifyError(
                    alert.clip_id, f"{notifier.name}: {first_line(err)}", err
                )
            await delivered()
            return None

        errors = [
            err
            for err in await asyncio.gather(*(_one(n) for n in pending))
            if err is not None
        ]
        stage.finished_at = self._now()
        stage.status = StageStatus.FAILED if errors else StageStatus.DONE
        stage.error = "; ".join(describe(err) for err in errors) or None
        return len(pending) - len(errors), errors


LANDING_GRACE = 5.0
"""Seconds a delivery in flight at a stop may take to land (and be recorded)."""


async def _landing(
    notify: Awaitable[None], delivered: Callable[[], Awaitable[None]]
) -> None:
    """One delivery attempt that a stop does not cut off in mid-air.

    An output may already have the alert when HomeSec stops (its answer is on
    the way): cancelling then would leave it unrecorded, and the restart would
    send it again. So on cancellation the attempt gets ``LANDING_GRACE``
    seconds to finish; if it succeeds it is recorded, then the stop goes on.
    """
    attempt = asyncio.ensure_future(notify)
    try:
        await asyncio.shield(attempt)
    except asyncio.CancelledError:
        try:
            done, _ = await asyncio.wait({attempt}, timeout=LANDING_GRACE)
            if attempt in done and not attempt.cancelled() and not attempt.exception():
                await delivered()
        finally:
            attempt.cancel()  # still in the air: given up (no-op when done)
        raise
