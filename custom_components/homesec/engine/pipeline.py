"""ClipPipeline: one async flow per clip with bounded concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
import logging

from .clip_history import ClipHistory, LifecycleListener, utcnow
from .clip_tasks import ClipTasks, PipelineMark
from .detect.rules import DetectionRules
from .detect.stationary import StationaryTracker
from .errors import (
    AnalysisSkipped,
    AnalyzeError,
    DetectError,
    DetectorUnavailable,
    StageError,
    UploadError,
    VideoDecodeError,
)
from .interfaces import AlertPolicy, Analyzer, Notifier, ObjectDetector, Storage
from .live_ledger import LiveLedger
from .models import (
    Alert,
    AnalysisResult,
    Clip,
    ClipAlerted,
    ClipDetected,
    ClipEventType,
    ClipFinished,
    ClipQueued,
    ClipState,
    ClipStatus,
    FilterResult,
    Stage,
    StageStatus,
    UploadOutcome,
)
from .outputs import ClipLinks, Outputs, ReasonWording, make_alert
from .pipeline_settings import CameraRules, PipelineSettings
from .policy import STATIONARY, decide_from
from .repository import ClipRepository
from .retry import RetrySettings, Sleep, StageRunner
from .snapshots import SnapshotKeeper
from .text import describe

__all__ = ["ClipPipeline", "LifecycleListener", "PipelineSettings"]

_LOGGER = logging.getLogger(__name__)


class ClipPipeline:
    """Upload || detect -> analyze -> decide -> notify, recorded stage by stage.

    A clip given with its recorded state resumes after the last completed stage:
    a stored clip is not uploaded again and a delivered alert is not sent again.
    Outputs hear of a detection at once (while the summary is made) and of the
    clip's end; the detection's snapshot is kept before anyone is told.
    """

    def __init__(
        self,
        *,
        storage: Storage,
        detector: ObjectDetector,
        analyzer: Analyzer | None,
        policy: AlertPolicy,
        notifiers: Sequence[Notifier],
        repository: ClipRepository,
        snapshots: SnapshotKeeper | None = None,
        listener: LifecycleListener | None = None,
        settings: PipelineSettings | None = None,
        clip_links: ClipLinks | None = None,
        reason_wording: ReasonWording | None = None,
        stationary: StationaryTracker | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Wire the stages; nothing runs until a clip is submitted."""
        self._settings = settings or PipelineSettings()
        self._clip_links = clip_links
        self._reason_wording = reason_wording
        self._stationary = stationary
        self.camera_rules = CameraRules(self._settings.camera_rules, stationary)
        """Each camera's rules; replaced when a camera changes."""
        self._storage = storage
        self._detector = detector
        self._analyzer = analyzer
        self._policy = policy
        self._outputs = Outputs(notifiers, clock)
        self._repo = repository
        self._snapshots = snapshots
        self._history = ClipHistory(repository, clock, listener)
        self._now = clock

        self._clips = asyncio.Semaphore(self._settings.max_clips_in_flight)
        self._stages = StageRunner(self._settings.stage_limits(), clock, sleep)
        self._tasks = ClipTasks()
        self.live = LiveLedger(self._outputs, self._history, snapshots)
        """What live detection told of clips still being recorded."""

    @property
    def in_flight(self) -> int:
        """Clips submitted and not finished yet."""
        return len(self._tasks)

    def add_notifier(self, notifier: Notifier) -> None:
        """Deliver the alerts from now on to ``notifier`` too."""
        self._outputs.add(notifier)

    def rules_for(self, camera_name: str) -> DetectionRules | None:
        """The camera's detection rules (None: the detector's own)."""
        return self.camera_rules.of(camera_name)

    def is_queued(self, clip_id: str) -> bool:
        """Whether the clip is being processed or waits for its turn."""
        return clip_id in self._tasks

    async def submit(self, clip: Clip, state: ClipState | None = None) -> None:
        """Queue a clip (with its recorded state, to resume it) in its own task."""
        self._tasks.start(clip.clip_id, lambda: self.process(clip, state))

    def mark(self) -> PipelineMark:
        """Where the pipeline is now: take it before listing clips to resume."""
        return self._tasks.mark()

    async def resume(
        self, clip: Clip, state: ClipState | None, since: PipelineMark
    ) -> None:
        """Resume a clip listed as unfinished after ``since``, unless it ran since.

        A clip in flight when the list was made, or started after, may have
        finished before this call; its listed state is stale then, and running
        it again would send its alert twice.
        """
        if not self._tasks.ran_since(clip.clip_id, since):
            await self.submit(clip, state)

    async def store_again(self, clip: Clip, state: ClipState) -> None:
        """Upload a finished clip whose upload failed (nothing else runs again)."""

        async def _store() -> ClipState:
            if isinstance(await self._upload(clip, state), UploadError):
                await self._repo.save(state)  # the attempts, for diagnostics
            else:
                _LOGGER.info("%s is stored now", clip.clip_id)
            return state

        self._tasks.start(clip.clip_id, _store)

    async def drain(self) -> None:
        """Wait until every submitted clip finished."""
        await self._tasks.drain()

    async def stop(self) -> None:
        """Cancel clips in flight (they stay in the spool) and wait for them."""
        await self._tasks.stop()

    async def process(self, clip: Clip, state: ClipState | None = None) -> ClipState:
        """Run the stages still to do for one clip and return its final state.

        A clip slot is held for upload and detection only: a slow model then
        delays summaries, never the detection of newer clips.
        """
        live = self.live.claim(clip.clip_id)
        async with self._clips:
            resumed = state is not None
            state = state or ClipState.for_clip(clip)
            state.status = ClipStatus.PROCESSING
            await self._repo.save(state)
            await self._history.record(
                clip, ClipEventType.RESUMED if resumed else ClipEventType.QUEUED
            )
            self._history.emit(ClipQueued(clip=clip))
            upload, detected = await asyncio.gather(
                self._upload(clip, state),
                self._detect(clip, state, live.settled if live else None),
            )
        if isinstance(detected, StageError):
            if isinstance(detected.cause, DetectorUnavailable):
                return state  # unfinished: detected when the detector is back
            return await self._finish(clip, state, error=detected)
        told = live.told if live else None  # the live word went out already
        if detected.detected_classes and live is None:
            self._history.emit(ClipDetected(clip=clip, result=detected))
            if not detected.stationary:  # a parked car is no news
                told = asyncio.create_task(
                    self._outputs.tell(lambda n: n.detected(clip, detected))
                )
        try:
            analysis = await self._analyze(clip, state, detected)
            decision = decide_from(self._policy, clip.camera_name, detected, analysis)
            state.decision = decision
            state.stages[Stage.DECIDE].status = StageStatus.DONE
            await self._history.record(
                clip,
                ClipEventType.DECIDED,
                notify=decision.notify,
                reason=decision.reason,
            )
            if told is not None:
                await told  # the early word goes out before the alert
            if decision.notify:
                self._policy.alerted(clip.camera_name, self._now())
                alert = make_alert(
                    clip,
                    upload,
                    detected,
                    analysis,
                    decision,
                    self._clip_links,
                    self._reason_wording,
                )
                self._history.emit(ClipAlerted(clip=clip, alert=alert))
                await self._notify(clip, state, alert)
            else:
                state.stages[Stage.NOTIFY].status = StageStatus.SKIPPED
        finally:
            if told is not None:
                told.cancel()
        return await self._finish(clip, state)

    async def _upload(
        self, clip: Clip, state: ClipState
    ) -> UploadOutcome | UploadError:
        if state.done(Stage.UPLOAD) and state.storage_uri:
            return UploadOutcome(storage_uri=state.storage_uri, view_url=state.view_url)
        result = await self._stages.run(
            state,
            Stage.UPLOAD,
            lambda: self._storage.put(clip),
            UploadError,
            self._settings.upload_retry,
        )
        if isinstance(result, UploadError):
            await self._history.record(
                clip, ClipEventType.UPLOAD_FAILED, error=describe(result)
            )
            _LOGGER.warning("%s (the alert goes out without a link)", result)
            return result
        state.storage_uri = result.storage_uri
        state.view_url = result.view_url
        await self._repo.save(state)
        await self._history.record(
            clip, ClipEventType.UPLOADED, storage_uri=result.storage_uri
        )
        return result

    async def _detect(
        self, clip: Clip, state: ClipState, live: FilterResult | None
    ) -> FilterResult | DetectError:
        """Scan the clip, unless its live hits satisfied the rules (``live``)."""
        if state.done(Stage.DETECT) and state.filter_result is not None:
            return state.filter_result

        async def _scan() -> FilterResult:
            if live is not None:
                return live
            return await self._detector.detect(clip, self.rules_for(clip.camera_name))

        result = await self._stages.run(
            state,
            Stage.DETECT,
            _scan,
            DetectError,
            self._settings.detect_retry,
            retry_on=DetectorUnavailable,
        )
        if isinstance(result, DetectError):
            await self._history.record(
                clip, ClipEventType.DETECT_FAILED, error=describe(result)
            )
            state.not_a_video = isinstance(result.cause, VideoDecodeError)
            if isinstance(result.cause, DetectorUnavailable):
                await self._repo.save(state)  # waits for the detector
                _LOGGER.debug("%s; the clip waits for the detector", result)
            else:
                _LOGGER.error("%s; the clip stays in the spool", result)
            return result
        if self._stationary is not None:
            result = self._stationary.mark(clip, result)
        state.filter_result = result
        if result.snapshot_jpeg and self._snapshots is not None:
            await self._snapshots.keep(clip.clip_id, result.snapshot_jpeg)
        await self._repo.save(state)
        await self._history.record(
            clip,
            ClipEventType.DETECTED,
            classes=result.detected_classes,
            confidence=result.confidence,
            stationary=result.stationary,
        )
        return result

    async def _analyze(
        self, clip: Clip, state: ClipState, detected: FilterResult
    ) -> AnalysisResult | AnalyzeError | AnalysisSkipped | None:
        if state.done(Stage.ANALYZE) and state.analysis is not None:
            return state.analysis
        stage = state.stages[Stage.ANALYZE]
        reason = (
            "no analyzer"
            if self._analyzer is None
            else STATIONARY
            if detected.stationary
            else self._policy.skip_analysis(clip.camera_name, detected, self._now())
        )
        if reason is not None or self._analyzer is None:
            stage.status = StageStatus.SKIPPED
            await self._history.record(
                clip, ClipEventType.ANALYZE_SKIPPED, reason=reason
            )
            return None
        analyzer = self._analyzer

        async def _ask() -> AnalysisResult | AnalysisSkipped:
            try:
                return await analyzer.analyze(clip, detected)
            except AnalysisSkipped as skipped:
                return skipped

        retry = (
            RetrySettings(max_attempts=1)
            if analyzer.retries_itself
            else self._settings.analyze_retry
        )
        result = await self._stages.run(state, Stage.ANALYZE, _ask, AnalyzeError, retry)
        if isinstance(result, AnalysisSkipped):
            stage.status = StageStatus.SKIPPED
            await self._history.record(
                clip, ClipEventType.ANALYZE_SKIPPED, reason=result.reason
            )
            _LOGGER.info("Analysis of %s skipped: %s", clip.clip_id, result.reason)
            return result
        if isinstance(result, AnalyzeError):
            await self._history.record(
                clip, ClipEventType.ANALYZE_FAILED, error=describe(result)
            )
            _LOGGER.warning("%s (the alert goes out without a summary)", result)
            return result
        state.analysis = result
        await self._repo.save(state)
        await self._history.record(clip, ClipEventType.ANALYZED, risk=result.risk_level)
        return result

    async def _notify(self, clip: Clip, state: ClipState, alert: Alert) -> None:
        """Deliver the alert to every output not yet delivered; record failures."""
        result = await self._outputs.deliver(
            state,
            alert,
            limit=self._stages.limits[Stage.NOTIFY],
            retry=self._settings.notify_retry,
            sleep=self._stages.sleep,
            save=self._repo.save,
        )
        if result is None:
            return
        delivered, errors = result
        record = self._history.record
        for err in errors:
            _LOGGER.warning("%s", err)
            await record(clip, ClipEventType.NOTIFY_FAILED, error=describe(err))
        await record(
            clip, ClipEventType.NOTIFIED, delivered=delivered, failed=len(errors)
        )

    async def _finish(
        self, clip: Clip, state: ClipState, error: StageError | None = None
    ) -> ClipState:
        state.status = ClipStatus.ERROR if error else ClipStatus.DONE
        await self._history.record(
            clip,
            ClipEventType.FINISHED,
            status=state.status,
            error=describe(error) if error else None,
        )
        # The state is written last: a finished state implies a complete history.
        await self._repo.save(state)
        await self._outputs.tell(lambda n: n.finished(clip))
        self._history.emit(
            ClipFinished(
                clip=clip,
                status=state.status,
                error=describe(error) if error else None,
            )
        )
        return state
