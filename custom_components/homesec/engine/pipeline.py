"""ClipPipeline: one async flow per clip with bounded concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
import logging

from pydantic import BaseModel, ConfigDict

from .errors import AnalyzeError, DetectError, NotifyError, StageError, UploadError
from .interfaces import Analyzer, Notifier, ObjectDetector, Storage
from .models import (
    Alert,
    AlertDecision,
    AnalysisResult,
    Clip,
    ClipAlerted,
    ClipDetected,
    ClipEvent,
    ClipEventType,
    ClipFinished,
    ClipQueued,
    ClipState,
    ClipStatus,
    FilterResult,
    LifecycleEvent,
    Stage,
    StageStatus,
    UploadOutcome,
)
from .policy import DefaultAlertPolicy
from .repository import ClipRepository
from .text import describe

_LOGGER = logging.getLogger(__name__)

type LifecycleListener = Callable[[LifecycleEvent], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PipelineSettings(BaseModel):
    """Concurrency bounds and the classes worth analysing."""

    model_config = ConfigDict(frozen=True)

    max_clips_in_flight: int = 4
    max_detections_in_flight: int = 1
    trigger_classes: frozenset[str] = frozenset({"person", "vehicle", "animal"})


class ClipPipeline:
    """Upload || detect -> analyze -> decide -> notify, recorded stage by stage."""

    def __init__(
        self,
        *,
        storage: Storage,
        detector: ObjectDetector,
        analyzer: Analyzer | None,
        policy: DefaultAlertPolicy,
        notifiers: Sequence[Notifier],
        repository: ClipRepository,
        listener: LifecycleListener | None = None,
        settings: PipelineSettings | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Wire the stages; nothing runs until a clip is submitted."""
        self._settings = settings or PipelineSettings()
        self._storage = storage
        self._detector = detector
        self._analyzer = analyzer
        self._policy = policy
        self._notifiers = list(notifiers)
        self._repo = repository
        self._listener = listener
        self._now = clock
        self._clips = asyncio.Semaphore(self._settings.max_clips_in_flight)
        self._detections = asyncio.Semaphore(self._settings.max_detections_in_flight)
        self._tasks: set[asyncio.Task[ClipState]] = set()
        self._stopping = False

    @property
    def in_flight(self) -> int:
        """Clips submitted and not finished yet."""
        return len(self._tasks)

    async def submit(self, clip: Clip) -> None:
        """Queue a clip; it is processed in its own task."""
        if self._stopping:
            _LOGGER.debug("Pipeline stopping, %s stays in the spool", clip.clip_id)
            return
        task = asyncio.create_task(self.process(clip), name=f"homesec {clip.clip_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancel clips in flight (they stay in the spool) and wait for them."""
        self._stopping = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def process(self, clip: Clip) -> ClipState:
        """Run every stage for one clip and return its final state."""
        async with self._clips:
            state = ClipState(
                clip_id=clip.clip_id,
                camera_name=clip.camera_name,
                local_path=str(clip.local_path),
                status=ClipStatus.PROCESSING,
            )
            await self._repo.save(state)
            await self._record(clip, ClipEventType.QUEUED)
            self._emit(ClipQueued(clip=clip))

            upload, detected = await asyncio.gather(
                self._upload(clip, state), self._detect(clip, state)
            )
            if isinstance(detected, StageError):
                return await self._finish(clip, state, error=detected)
            if detected.detected_classes:
                self._emit(ClipDetected(clip=clip, result=detected))

            analysis = await self._analyze(clip, state, detected)
            decision = self._decide(clip, state, detected, analysis)
            await self._record(
                clip,
                ClipEventType.DECIDED,
                notify=decision.notify,
                reason=decision.reason,
            )
            if decision.notify:
                alert = self._alert(clip, upload, detected, analysis, decision)
                self._emit(ClipAlerted(clip=clip, alert=alert))
                await self._notify(clip, state, alert)
            else:
                state.stages[Stage.NOTIFY].status = StageStatus.SKIPPED
            return await self._finish(clip, state)

    async def _upload(
        self, clip: Clip, state: ClipState
    ) -> UploadOutcome | UploadError:
        result = await self._stage(
            state, Stage.UPLOAD, lambda: self._storage.put(clip), UploadError
        )
        if isinstance(result, UploadError):
            await self._record(
                clip, ClipEventType.UPLOAD_FAILED, error=describe(result)
            )
            _LOGGER.warning("%s (the alert goes out without a link)", result)
            return result
        state.storage_uri = result.storage_uri
        state.view_url = result.view_url
        await self._repo.save(state)
        await self._record(clip, ClipEventType.UPLOADED, storage_uri=result.storage_uri)
        return result

    async def _detect(self, clip: Clip, state: ClipState) -> FilterResult | DetectError:
        async def _run() -> FilterResult:
            async with self._detections:
                return await self._detector.detect(clip)

        result = await self._stage(state, Stage.DETECT, _run, DetectError)
        if isinstance(result, DetectError):
            await self._record(
                clip, ClipEventType.DETECT_FAILED, error=describe(result)
            )
            _LOGGER.error("%s; the clip stays in the spool", result)
            return result
        state.filter_result = result
        await self._repo.save(state)
        await self._record(
            clip,
            ClipEventType.DETECTED,
            classes=result.detected_classes,
            confidence=result.confidence,
        )
        return result

    async def _analyze(
        self, clip: Clip, state: ClipState, detected: FilterResult
    ) -> AnalysisResult | AnalyzeError | None:
        stage = state.stages[Stage.ANALYZE]
        wanted = bool(
            set(detected.detected_classes) & self._settings.trigger_classes
        ) or (
            bool(detected.detected_classes)
            and self._policy.settings_for(clip.camera_name).notify_on_motion
        )
        if self._analyzer is None or not wanted:
            stage.status = StageStatus.SKIPPED
            reason = "no analyzer" if self._analyzer is None else "no trigger class"
            await self._record(clip, ClipEventType.ANALYZE_SKIPPED, reason=reason)
            return None
        analyzer = self._analyzer
        result = await self._stage(
            state,
            Stage.ANALYZE,
            lambda: analyzer.analyze(clip, detected),
            AnalyzeError,
        )
        if isinstance(result, AnalyzeError):
            await self._record(
                clip, ClipEventType.ANALYZE_FAILED, error=describe(result)
            )
            _LOGGER.warning("%s (the alert goes out without a summary)", result)
            return result
        state.analysis = result
        await self._record(clip, ClipEventType.ANALYZED, risk=result.risk_level)
        return result

    def _decide(
        self,
        clip: Clip,
        state: ClipState,
        detected: FilterResult,
        analysis: AnalysisResult | AnalyzeError | None,
    ) -> AlertDecision:
        usable = analysis if isinstance(analysis, AnalysisResult) else None
        decision = self._policy.decide(clip.camera_name, detected, usable)
        state.decision = decision
        state.stages[Stage.DECIDE].status = StageStatus.DONE
        return decision

    def _alert(
        self,
        clip: Clip,
        upload: UploadOutcome | UploadError,
        detected: FilterResult,
        analysis: AnalysisResult | AnalyzeError | None,
        decision: AlertDecision,
    ) -> Alert:
        stored = upload if isinstance(upload, UploadOutcome) else None
        summary = analysis if isinstance(analysis, AnalysisResult) else None
        return Alert(
            clip_id=clip.clip_id,
            camera_name=clip.camera_name,
            storage_uri=stored.storage_uri if stored else None,
            view_url=stored.view_url if stored else None,
            snapshot_url=None,
            clip_url=None,
            risk_level=summary.risk_level if summary else None,
            activity_type=summary.activity_type if summary else None,
            summary=summary.summary if summary else None,
            notify_reason=decision.reason,
            detected_classes=detected.detected_classes,
            confidence=detected.confidence,
            ts=clip.start_ts,
            dedupe_key=clip.clip_id,
            upload_failed=stored is None,
            vlm_failed=isinstance(analysis, AnalyzeError),
        )

    async def _notify(self, clip: Clip, state: ClipState, alert: Alert) -> None:
        async def _one(notifier: Notifier) -> NotifyError | None:
            try:
                await notifier.notify(alert)
            except Exception as err:  # noqa: BLE001 - one notifier never stops others
                return NotifyError(clip.clip_id, f"{notifier.name}: {err}", err)
            return None

        stage = state.stages[Stage.NOTIFY]
        stage.status = StageStatus.RUNNING
        stage.attempts += 1
        stage.started_at = self._now()
        errors = [
            err
            for err in await asyncio.gather(*(_one(n) for n in self._notifiers))
            if err is not None
        ]
        stage.finished_at = self._now()
        for err in errors:
            _LOGGER.warning("%s", err)
            await self._record(clip, ClipEventType.NOTIFY_FAILED, error=describe(err))
        stage.status = StageStatus.FAILED if errors else StageStatus.DONE
        stage.error = "; ".join(describe(err) for err in errors) or None
        await self._record(
            clip,
            ClipEventType.NOTIFIED,
            delivered=len(self._notifiers) - len(errors),
            failed=len(errors),
        )

    async def _stage[T, E: StageError](
        self,
        state: ClipState,
        stage: Stage,
        operation: Callable[[], Awaitable[T]],
        error_type: type[E],
    ) -> T | E:
        record = state.stages[stage]
        record.status = StageStatus.RUNNING
        record.attempts += 1
        record.started_at = self._now()
        try:
            value = await operation()
        except Exception as err:  # noqa: BLE001 - stage errors are values
            record.status = StageStatus.FAILED
            record.error = describe(err)
            record.finished_at = self._now()
            return error_type(state.clip_id, describe(err), err)
        record.status = StageStatus.DONE
        record.error = None
        record.finished_at = self._now()
        return value

    async def _finish(
        self, clip: Clip, state: ClipState, error: StageError | None = None
    ) -> ClipState:
        state.status = ClipStatus.ERROR if error else ClipStatus.DONE
        await self._record(
            clip,
            ClipEventType.FINISHED,
            status=state.status,
            error=describe(error) if error else None,
        )
        # The state is written last: a finished state implies a complete history.
        await self._repo.save(state)
        self._emit(
            ClipFinished(
                clip=clip,
                status=state.status,
                error=describe(error) if error else None,
            )
        )
        return state

    async def _record(
        self, clip: Clip, event_type: ClipEventType, **detail: object
    ) -> None:
        await self._repo.record(
            ClipEvent(
                clip_id=clip.clip_id,
                camera_name=clip.camera_name,
                event_type=event_type,
                ts=self._now(),
                detail=detail,
            )
        )

    def _emit(self, event: LifecycleEvent) -> None:
        if self._listener is None:
            return
        try:
            self._listener(event)
        except Exception:
            _LOGGER.exception("Lifecycle listener failed on %s", type(event).__name__)
