"""How much the pipeline does at once, and how patiently it retries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .detect.rules import DetectionRules
from .retry import RetrySettings


class PipelineSettings(BaseModel):
    """Concurrency bounds, retries, and each camera's detection rules."""

    model_config = ConfigDict(frozen=True)

    max_clips_in_flight: int = Field(default=4, ge=1)
    max_uploads: int = Field(default=2, ge=1)
    max_detections: int = Field(default=1, ge=1)
    max_analyses: int = Field(default=2, ge=1)
    max_notifications: int = Field(default=4, ge=1)
    upload_retry: RetrySettings = RetrySettings()
    analyze_retry: RetrySettings = RetrySettings()
    detect_retry: RetrySettings = RetrySettings()
    """Retries of a detector that cannot answer now (other errors are final)."""
    notify_retry: RetrySettings = RetrySettings()
    camera_rules: dict[str, DetectionRules] = Field(default_factory=dict)
    """Detection rules by camera; a camera without any gets the detector's own."""
