"""How many frames live detection may check: per camera and across cameras."""

from __future__ import annotations

from collections import deque
import threading

from pydantic import BaseModel, ConfigDict, Field


class LiveSettings(BaseModel):
    """Live detection's rate and budget."""

    model_config = ConfigDict(frozen=True)

    camera_fps: float = Field(default=2.0, gt=0, le=10)
    """Frames a second checked per recording camera (while motion is seen)."""
    total_fps: float = Field(default=4.0, gt=0, le=30)
    """Frames a second checked across all cameras."""
    max_waiting: int = Field(default=2, ge=1, le=8)
    """Frames waiting for the detector at once, across cameras (one per camera)."""


class LiveBudget:
    """Grants frames to cameras within ``LiveSettings`` (thread-safe).

    A camera whose previous frame still waits for the detector (busy with a
    clip or another camera) gets none: live detection yields, and the clip's
    own scan catches what it missed.
    """

    def __init__(self, settings: LiveSettings) -> None:
        """Grant frames within ``settings``."""
        self.settings = settings
        self._lock = threading.Lock()
        self._granted: deque[float] = deque()
        self._waiting: set[str] = set()
        self.skipped = 0
        """Frames refused so far (for benches and diagnostics)."""

    def take(self, camera: str, now: float) -> str | None:
        """Grant ``camera`` a frame at ``now``; else why not (and count it)."""
        with self._lock:
            granted = self._granted
            while granted and now - granted[0] >= 1.0:
                granted.popleft()
            if camera in self._waiting:
                reason = "the detector is still busy with its previous frame"
            elif len(self._waiting) >= self.settings.max_waiting:
                reason = "the detector is busy with other cameras"
            elif len(granted) >= self.settings.total_fps:
                reason = "the frame budget across cameras is spent"
            else:
                granted.append(now)
                self._waiting.add(camera)
                return None
            self.skipped += 1
            return reason

    def done(self, camera: str) -> None:
        """``camera``'s frame was checked (or dropped)."""
        with self._lock:
            self._waiting.discard(camera)
