"""How much the pipeline does at once, and how patiently it retries."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from .detect.rules import DetectionRules
from .detect.stationary import StationaryTracker
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


class CameraRules:
    """Each camera's detection rules, replaced when a camera changes.

    With where its parked objects stand: frames showing only them never end a
    scan.
    """

    def __init__(
        self, rules: Mapping[str, DetectionRules], stationary: StationaryTracker | None
    ) -> None:
        """Start from ``rules``; parked boxes come from ``stationary``."""
        self._rules = dict(rules)
        self._stationary = stationary

    def replace(self, rules: Mapping[str, DetectionRules]) -> None:
        """Use ``rules`` from now on (clips being scanned keep theirs)."""
        self._rules = dict(rules)

    def of(self, camera_name: str) -> DetectionRules | None:
        """The camera's rules (None: the detector's own)."""
        rules = self._rules.get(camera_name)
        if rules is not None and self._stationary is not None:
            parked = self._stationary.parked(camera_name)
            rules = rules.model_copy(update={"parked": parked})
        return rules
