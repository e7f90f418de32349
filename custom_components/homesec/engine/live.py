"""Live detection: a recording camera's frames checked while its clip is recorded.

The camera's stream thread offers the frames it decoded for motion (``offer``)
while a recording is open and motion is seen; within the budget, each one is
scaled for the model there and checked by the detector in its executor (the
event loop only schedules). The first frame matching the camera's rules tells
the pipeline at once, under the id the clip will have; when enough frames
matched to satisfy the rules, the clip reuses them instead of being scanned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
import logging
from typing import Any, Protocol

import av
import numpy as np
from numpy.typing import NDArray

from .detect.rules import DetectionRules
from .detect.scan import HitTracker
from .interfaces import BlockingRunner, FrameModel, ObjectDetector
from .live_budget import LiveBudget, LiveSettings
from .models import Clip, FilterResult
from .text import first_line

_LOGGER = logging.getLogger(__name__)

type CameraGate = Callable[[str], bool]


type CameraRules = Callable[[str], DetectionRules | None]
"""A camera's detection rules (None: the detector's own)."""


class LiveSink(Protocol):
    """Where live findings go (the pipeline's live ledger)."""

    async def detected(
        self, clip: Clip, result: FilterResult, *, settled: bool
    ) -> None:
        """A frame of ``clip``, still recording, matched; ``settled``: rules met."""

    def settled(self, clip: Clip, result: FilterResult) -> None:
        """Enough frames of ``clip`` matched to satisfy its rules."""


def model_frame(frame: av.VideoFrame, side: int) -> NDArray[np.uint8]:
    """The frame as RGB, its longer side ``side`` px (even sizes; blocking)."""
    scale = side / max(frame.width, frame.height)
    width = max(2, round(frame.width * scale / 2) * 2)
    height = max(2, round(frame.height * scale / 2) * 2)
    rgb = frame.reformat(width=width, height=height, format="rgb24")
    return np.asarray(rgb.to_ndarray(), dtype=np.uint8)


@dataclass(slots=True)
class _Window:
    """One recording: its clip-to-be, the wall time it starts, what matched."""

    clip: Clip
    origin: float
    tracker: HitTracker | None = None
    raised: bool = False
    settled: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class LiveDetection:
    """The hub's live detection: one model and budget shared by its cameras."""

    def __init__(
        self,
        detector: ObjectDetector,
        *,
        sink: LiveSink,
        rules_for: CameraRules,
        run_blocking: BlockingRunner,
        enabled: CameraGate,
        settings: LiveSettings | None = None,
    ) -> None:
        """Check frames with ``detector``'s model; tell ``sink``."""
        self.budget = LiveBudget(settings or LiveSettings())
        self._detector = detector
        self.sink = sink
        self.rules_for = rules_for
        self.run = run_blocking
        self.enabled = enabled
        self._model: asyncio.Task[FrameModel | None] | None = None

    async def model(self) -> FrameModel | None:
        """The detector's frame model, loaded once (None: it has none)."""
        if self._model is None:
            self._model = asyncio.create_task(self._load())
        return await asyncio.shield(self._model)

    async def _load(self) -> FrameModel | None:
        try:
            return await self._detector.frame_model()
        except Exception as err:  # noqa: BLE001 - clips are still scanned
            _LOGGER.warning(
                "Live detection is off: the model did not load (%s); clips are "
                "scanned when they are finished",
                first_line(err),
            )
            return None

    def camera(self, camera_name: str) -> LiveCamera:
        """Live detection for one camera (its source drives it)."""
        return LiveCamera(camera_name, self)


class LiveCamera:
    """One camera's live detection.

    ``begin``, ``end`` and ``offer`` are called from the camera's stream
    threads; the checks run as tasks on the event loop started with ``start``.
    """

    def __init__(self, camera_name: str, hub: LiveDetection) -> None:
        """Nothing is checked before ``start``."""
        self.camera_name = camera_name
        self._hub = hub
        self._period = 1.0 / hub.budget.settings.camera_fps
        self._loop: asyncio.AbstractEventLoop | None = None
        self._model: FrameModel | None = None
        self._window: _Window | None = None
        self._last = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Load the model in the background; frames are checked once it is."""
        self._loop = asyncio.get_running_loop()
        self._spawn(self._load())

    async def stop(self) -> None:
        """Stop checking frames; checks under way are cancelled."""
        self._loop = None
        self._window = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _load(self) -> None:
        self._model = await self._hub.model()

    def begin(self, clip: Clip, origin: float) -> None:
        """A recording started: ``clip`` is what it becomes (any thread)."""
        self._window = _Window(clip, origin)

    def end(self) -> None:
        """The recording ended (any thread); frames still being checked count."""
        self._window = None

    def offer(self, frame: av.VideoFrame, now: float) -> None:
        """A frame decoded at ``now`` while motion is seen (the stream's thread)."""
        window, model, loop = self._window, self._model, self._loop
        if window is None or model is None or loop is None:
            return
        if now - self._last < self._period:
            return
        self._last = now
        if not self._hub.enabled(self.camera_name):
            return
        refused = self._hub.budget.take(self.camera_name, now)
        if refused is not None:
            _LOGGER.debug(
                "%s: live detection skips a frame: %s", self.camera_name, refused
            )
            return
        try:
            image = model_frame(frame, model.side)
            loop.call_soon_threadsafe(self._check_soon, window, model, now, image)
        except Exception as err:  # noqa: BLE001 - never stops the camera's stream
            self._hub.budget.done(self.camera_name)  # the loop closed, a bad frame
            _LOGGER.debug("%s: live frame dropped: %s", self.camera_name, err)

    def _check_soon(
        self, window: _Window, model: FrameModel, now: float, image: NDArray[np.uint8]
    ) -> None:
        if self._loop is None:
            self._hub.budget.done(self.camera_name)
            return
        self._spawn(self._check(window, model, now - window.origin, image))

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(
        self, window: _Window, model: FrameModel, ts: float, image: NDArray[np.uint8]
    ) -> None:
        hub = self._hub
        rules = hub.rules_for(self.camera_name) or model.rules
        try:
            raw = await model.detect(image, rules)
        except Exception as err:  # noqa: BLE001 - the clip is scanned anyway
            _LOGGER.debug(
                "%s: live check failed: %s", self.camera_name, first_line(err)
            )
            return
        finally:
            hub.budget.done(self.camera_name)
        async with window.lock:
            tracker = window.tracker = window.tracker or HitTracker(rules)
            tracker.add(ts, raw, lambda: image)
            raise_now = tracker.news > 0 and not window.raised
            settle_now = tracker.done and not window.settled
            if not (raise_now or settle_now):
                return
            window.raised = True
            window.settled = tracker.done
            if not settle_now:  # this frame alone: the rules want more of them
                tracker = HitTracker(rules.model_copy(update={"min_hits": 1}))
                tracker.add(ts, raw, lambda: image)
            found = await hub.run(tracker.result, model.name)
            result = found.model_copy(update={"live": True})
            if raise_now:
                _LOGGER.debug(
                    "%s: live detection of %s",
                    window.clip.clip_id,
                    result.detected_classes,
                )
                await hub.sink.detected(window.clip, result, settled=settle_now)
            else:
                hub.sink.settled(window.clip, result)
