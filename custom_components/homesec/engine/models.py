"""Value objects that travel through the pipeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from stat import S_ISREG
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class RiskLevel(StrEnum):
    """How worrying a clip is, ordered low < medium < high < critical."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order, 0 for low."""
        return list(RiskLevel).index(self)


class Stage(StrEnum):
    """Pipeline stages recorded in a clip's state."""

    UPLOAD = "upload"
    DETECT = "detect"
    ANALYZE = "analyze"
    DECIDE = "decide"
    NOTIFY = "notify"


class StageStatus(StrEnum):
    """Outcome of one stage for one clip."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class ClipStatus(StrEnum):
    """Overall status of a clip."""

    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    ERROR = "error"


class Frozen(BaseModel):
    """Immutable pydantic model."""

    model_config = ConfigDict(frozen=True)


class Clip(Frozen):
    """A finalized video file in the local spool."""

    clip_id: str
    camera_name: str
    local_path: Path
    start_ts: datetime
    source_type: str
    detection_path: Path | None = None
    """A low-resolution recording of the same moments (an RTSP camera's
    substream), scanned instead of the clip; never stored or shown."""
    original_name: str | None = None
    """The file's name as the camera or folder gave it (folder and FTP clips)."""

    @property
    def scan_path(self) -> Path:
        """The file detection reads: the detection recording when there is one.

        Blocking (it looks at the file): call it in an executor.
        """
        path = self.detection_path
        if path is not None:
            try:
                found = path.stat()
            except OSError:
                return self.local_path
            if S_ISREG(found.st_mode) and found.st_size > 0:
                return path
        return self.local_path


class Box(Frozen):
    """A bounding box in relative coordinates (0..1)."""

    x1: float
    y1: float
    x2: float
    y2: float


class Detection(Frozen):
    """One detected object (or motion region) in a sampled frame."""

    label: str
    confidence: float
    box: Box
    stationary: bool = False
    """Seen at the same place in an earlier clip of the camera (parked)."""
    frame_ts: float
    zones: list[str] = Field(default_factory=list)
    """The camera's zones the object stands in (by its box's bottom centre)."""


class FilterResult(Frozen):
    """What the detector found in a clip."""

    detected_classes: list[str]
    confidence: float
    frames_sampled: int
    best: Detection | None = None
    detections: list[Detection] = Field(default_factory=list)
    """Every matching detection in the best frame."""
    stationary: bool = False
    """Every object found stood still since an earlier clip: no summary, no alert."""
    model: str
    live: bool = False
    """Found on the camera's live stream while the clip was being recorded."""
    snapshot_jpeg: bytes | None = Field(default=None, exclude=True, repr=False)
    """The best frame with its boxes drawn (not stored in the state document)."""

    @property
    def zones(self) -> list[str]:
        """The zones the detections stand in (sorted, each once)."""
        found = {zone for det in self.detections for zone in det.zones}
        if self.best is not None:
            found.update(self.best.zones)
        return sorted(found)


class TokenUsage(Frozen):
    """Tokens one model call used."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class AnalysisResult(Frozen):
    """The vision-language model's structured summary of a clip."""

    risk_level: RiskLevel
    activity_type: str
    summary: str
    observations: list[str] = Field(default_factory=list)
    requires_review: bool = False
    usage: TokenUsage | None = None


class AlertReason(StrEnum):
    """Why a clip alerts or not, for machines (wording is the outputs' job)."""

    RISK_AT_OR_ABOVE = "risk_at_or_above"
    ACTIVITY_LISTED = "activity_listed"
    MOTION_ALERTS_ON = "motion_alerts_on"
    ANALYSIS_UNAVAILABLE = "analysis_unavailable"
    BELOW_THRESHOLD = "below_threshold"
    NO_ANALYSIS = "no_analysis"


class AlertDecision(Frozen):
    """Whether a clip deserves an alert, and why.

    ``reason`` is the sentence for logs and the clip's history; ``code`` and
    ``params`` say the same for machines and for translated wording.
    """

    notify: bool
    reason: str
    code: AlertReason | None = None
    params: dict[str, str] = {}


class UploadOutcome(Frozen):
    """Where a clip was stored."""

    storage_uri: str
    view_url: str | None = None


class Alert(Frozen):
    """The alert payload shared by bus events, MQTT and notifications."""

    clip_id: str
    camera_name: str
    storage_uri: str | None
    view_url: str | None
    snapshot_url: str | None
    clip_url: str | None
    risk_level: RiskLevel | None
    activity_type: str | None
    summary: str | None
    notify_reason: str
    detected_classes: list[str]
    confidence: float
    zones: list[str] = Field(default_factory=list)
    """The camera's zones the detected objects stand in."""
    ts: datetime
    dedupe_key: str
    upload_failed: bool
    vlm_failed: bool
    reason: AlertReason | None = None
    """Why the clip alerted, for automations (``notify_reason`` is its wording)."""
    reason_params: dict[str, str] = {}
    """The values ``reason`` refers to, such as the risk level and the minimum."""

    def payload(self) -> dict[str, Any]:
        """Return the JSON-ready payload."""
        return self.model_dump(mode="json")


class StageState(BaseModel):
    """Status, attempts, timing and last error of one stage."""

    status: StageStatus = StageStatus.PENDING
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


class ClipState(BaseModel):
    """The state document stored per clip (``clip_states.data``)."""

    schema_version: int = SCHEMA_VERSION
    clip_id: str
    camera_name: str
    local_path: str
    start_ts: datetime | None = None
    source_type: str | None = None
    original_name: str | None = None
    """The file's name as the camera or folder gave it (folder and FTP clips)."""
    status: ClipStatus = ClipStatus.QUEUED
    stages: dict[Stage, StageState] = Field(
        default_factory=lambda: {stage: StageState() for stage in Stage}
    )
    storage_uri: str | None = None
    view_url: str | None = None
    filter_result: FilterResult | None = None
    analysis: AnalysisResult | None = None
    decision: AlertDecision | None = None
    delivered: list[str] = Field(default_factory=list)
    """Names of the notifiers that already delivered this clip's alert."""
    storage_deleted_at: datetime | None = None
    """When retention deleted the stored copy (``storage_uri`` is then None)."""
    not_a_video: bool = False
    """Detection found no readable video in the file (nothing to play)."""

    @property
    def finished(self) -> bool:
        """Whether processing ended (done, or stopped by a detection error)."""
        return self.status in (ClipStatus.DONE, ClipStatus.ERROR)

    @property
    def failed(self) -> bool:
        """Whether processing stopped on an error (the clip is kept)."""
        return self.status is ClipStatus.ERROR

    @property
    def has_snapshot(self) -> bool:
        """Whether its scan kept a snapshot (every detector draws its best frame)."""
        return self.filter_result is not None and self.filter_result.best is not None

    def done(self, stage: Stage) -> bool:
        """Whether ``stage`` completed."""
        return self.stages[stage].status is StageStatus.DONE

    @classmethod
    def for_clip(cls, clip: Clip) -> ClipState:
        """A fresh state for a new clip."""
        return cls(
            clip_id=clip.clip_id,
            camera_name=clip.camera_name,
            local_path=str(clip.local_path),
            start_ts=clip.start_ts,
            source_type=clip.source_type,
            original_name=clip.original_name,
        )

    def clip(
        self,
        local_path: Path,
        *,
        detection_path: Path | None = None,
        start_ts: datetime,
        source_type: str = "spool",
    ) -> Clip:
        """The clip this state records, at ``local_path`` (defaults: what it lacks)."""
        return Clip(
            clip_id=self.clip_id,
            camera_name=self.camera_name,
            local_path=local_path,
            start_ts=self.start_ts or start_ts,
            source_type=self.source_type or source_type,
            detection_path=detection_path,
            original_name=self.original_name,
        )


class ClipEventType(StrEnum):
    """Append-only lifecycle history entries (``clip_events``)."""

    QUEUED = "queued"
    UPLOADED = "uploaded"
    UPLOAD_FAILED = "upload_failed"
    DETECTED = "detected"
    DETECT_FAILED = "detect_failed"
    ANALYZED = "analyzed"
    ANALYZE_FAILED = "analyze_failed"
    ANALYZE_SKIPPED = "analyze_skipped"
    DECIDED = "decided"
    NOTIFIED = "notified"
    NOTIFY_FAILED = "notify_failed"
    RESUMED = "resumed"
    FINISHED = "finished"
    DELETED = "clip_deleted"
    """Retention or the disk guard deleted a copy (detail: copy, reason, bytes)."""


class ClipEvent(Frozen):
    """One lifecycle history entry."""

    clip_id: str
    camera_name: str
    event_type: ClipEventType
    ts: datetime
    detail: dict[str, Any] = Field(default_factory=dict)


class ClipQueued(Frozen):
    """A clip entered the pipeline."""

    clip: Clip


class ClipDetected(Frozen):
    """Detection finished and found something."""

    clip: Clip
    result: FilterResult


class ClipAlerted(Frozen):
    """An alert was decided and handed to the notifiers."""

    clip: Clip
    alert: Alert


class ClipFinished(Frozen):
    """A clip's processing ended (done or error)."""

    clip: Clip
    status: ClipStatus
    error: str | None = None


type LifecycleEvent = ClipQueued | ClipDetected | ClipAlerted | ClipFinished
