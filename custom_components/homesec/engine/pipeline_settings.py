"""How much the pipeline does at once, and how patiently it retries."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict, Field

from .detect.rules import DetectionRules
from .models import Stage
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

    def stage_limits(self) -> dict[Stage, asyncio.Semaphore]:
        """A semaphore per stage: how many clips run it at once."""
        return {
            Stage.UPLOAD: asyncio.Semaphore(self.max_uploads),
            Stage.DETECT: asyncio.Semaphore(self.max_detections),
            Stage.ANALYZE: asyncio.Semaphore(self.max_analyses),
            Stage.NOTIFY: asyncio.Semaphore(self.max_notifications),
        }
