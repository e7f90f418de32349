"""Remote backend: a DeepStack / CodeProject.AI object detection server.

``POST {url}/v1/vision/detection`` with the frame as the multipart field
``image`` and ``min_confidence``; the answer lists ``predictions`` with
``label``, ``confidence`` and pixel ``x_min``/``y_min``/``x_max``/``y_max``.
For Home Assistant OS, where local model runtimes do not install.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import partial
import io
import json
import math
import threading
from typing import Any

import aiohttp
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ..answers import UnusableAnswer, read_json
from ..errors import CredentialsRejected, DetectorUnavailable, HomeSecError
from ..faults import Fault
from ..interfaces import BlockingRunner, ObjectDetector
from ..models import Box, Clip, FilterResult
from ..redact import redact_url
from .clip_video import clip_frames
from .keyframes import keyframes_then_sampled
from .rules import DetectionRules, RawDetection
from .scan import HitTracker

DETECTION_PATH = "/v1/vision/detection"
MAX_PREDICTIONS = 1000
"""Far above a real answer (YOLO keeps at most 300 boxes)."""
MAX_TEXT_CHARS = 200


class RemoteDetectorError(HomeSecError):
    """The detection server failed or answered something unusable."""

    def __init__(self, message: str, fault: Fault | None = None) -> None:
        """``fault``: the failure's kind when the server's answer tells it."""
        super().__init__(message)
        self.fault = fault


class RemoteDetectorUnavailable(RemoteDetectorError, DetectorUnavailable):  # noqa: N818
    """The detection server cannot be reached or is failing now (try later)."""


class RemoteSettings(BaseModel):
    """Server address and sampling."""

    model_config = ConfigDict(frozen=True)

    url: str
    api_key: SecretStr | None = None
    timeout: float = Field(default=15.0, gt=0)
    sample_fps: float = Field(default=2.0, gt=0)
    side: int = Field(default=640, ge=64)
    jpeg_quality: int = Field(default=85, ge=30, le=100)
    rules: DetectionRules = DetectionRules()

    @property
    def endpoint(self) -> str:
        """The detection endpoint."""
        return self.url.rstrip("/") + DETECTION_PATH


class _EncodedFrames:
    """A clip's sampled frames, decoded and encoded one at a time (blocking).

    The keyframes on the grid come first, then the frames in between (each
    frame once): the in-between ones are decoded only if the detector asks on.
    Only the frame being sent (and the next one) is held, whatever the clip's
    length; ``close`` waits for a frame still being decoded, then stops.
    """

    def __init__(self, clip: Clip, sample_fps: float, side: int, quality: int) -> None:
        self._frames = clip_frames(clip, sample_fps, side, keyframes_then_sampled)
        self._quality = quality
        self._lock = threading.Lock()
        self._closed = False

    def next(self) -> _Encoded | None:
        """The next sampled frame with its JPEG, or None at the end."""
        with self._lock:
            sampled = None if self._closed else next(self._frames, None)
            if sampled is None:
                return None
            buffer = io.BytesIO()
            Image.fromarray(sampled.image).save(
                buffer, format="JPEG", quality=self._quality
            )
            return _Encoded(sampled.ts, sampled.image, buffer.getvalue())

    def close(self) -> None:
        """Stop decoding and release the decoder."""
        with self._lock:
            self._closed = True
            self._frames.close()


@dataclass(frozen=True, slots=True)
class _Encoded:
    ts: float
    image: NDArray[np.uint8]
    jpeg: bytes


def parse_predictions(body: Any, width: int, height: int) -> list[RawDetection]:
    """Turn a server answer into detections; RemoteDetectorError if unusable.

    Boxes reaching past the frame are cut to it; boxes wholly outside it are
    dropped.
    """
    if not isinstance(body, dict):
        raise RemoteDetectorError(f"the answer is {_kind(body)}, not an object")
    if body.get("success") is False:
        error = str(body.get("error"))[:MAX_TEXT_CHARS]
        raise RemoteDetectorError(f"the server reported a failure: {error}")
    predictions = body.get("predictions")
    if not isinstance(predictions, list):
        raise RemoteDetectorError("the answer has no predictions list")
    if len(predictions) > MAX_PREDICTIONS:
        raise RemoteDetectorError(
            f"the answer lists {len(predictions)} predictions "
            f"(at most {MAX_PREDICTIONS} expected)"
        )
    found = []
    for index, item in enumerate(predictions):
        try:
            detection = _prediction(item, width, height)
        except _MalformedError as err:
            raise RemoteDetectorError(f"malformed prediction {index}: {err}") from err
        if detection is not None:
            found.append(detection)
    return found


class _MalformedError(Exception):
    """One prediction is unusable (says why)."""


def _prediction(item: Any, width: int, height: int) -> RawDetection | None:
    if not isinstance(item, dict):
        raise _MalformedError(f"{_kind(item)}, not an object")
    label = item.get("label")
    if not isinstance(label, str) or not label.strip():
        raise _MalformedError("no label")
    if len(label) > MAX_TEXT_CHARS:
        raise _MalformedError(f"a label longer than {MAX_TEXT_CHARS} characters")
    confidence = _number(item, "confidence")
    if not 0 <= confidence <= 1 + 1e-6:
        raise _MalformedError(f"confidence {confidence:g} is not between 0 and 1")
    x1, x2 = sorted(_number(item, key) / width for key in ("x_min", "x_max"))
    y1, y2 = sorted(_number(item, key) / height for key in ("y_min", "y_max"))
    box = Box(x1=_unit(x1), y1=_unit(y1), x2=_unit(x2), y2=_unit(y2))
    if box.x2 <= box.x1 or box.y2 <= box.y1:
        return None  # outside the frame
    return RawDetection(label=label.strip(), confidence=min(confidence, 1.0), box=box)


def _kind(value: Any) -> str:
    """What a JSON value is, in words."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def _number(item: dict[str, Any], key: str) -> float:
    """``item[key]`` as a finite number."""
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _MalformedError(f"{key} is not a number")
    try:
        number = float(value)
    except OverflowError as err:
        raise _MalformedError(f"{key} is out of range") from err
    if not math.isfinite(number):
        raise _MalformedError(f"{key} is not a finite number")
    return number


def _unit(value: float) -> float:
    return max(0.0, min(1.0, value))


class RemoteDetector(ObjectDetector):
    """Sends sampled frames to the server one by one; stops after min_hits."""

    def __init__(
        self,
        settings: RemoteSettings,
        session: aiohttp.ClientSession,
        run_blocking: BlockingRunner,
    ) -> None:
        """Use ``session`` (Home Assistant's shared one) for the requests."""
        self._settings = settings
        self._session = session
        self._run = run_blocking

    async def detect(
        self, clip: Clip, rules: DetectionRules | None = None
    ) -> FilterResult:
        """Ask the server frame by frame, decoding the next frame meanwhile.

        Frames are decoded off the loop one at a time; sending stops at the
        rules' ``min_hits``. Cancelling stops the requests and the decoder.
        """
        s = self._settings
        frames = _EncodedFrames(clip, s.sample_fps, s.side, s.jpeg_quality)
        rules = rules or s.rules
        tracker = HitTracker(rules)
        ahead = asyncio.ensure_future(self._run(frames.next))
        try:
            while (frame := await ahead) is not None:
                ahead = asyncio.ensure_future(self._run(frames.next))
                height, width = frame.image.shape[:2]
                raw = await self.ask(frame.jpeg, width, height, rules.min_confidence)
                tracker.add(frame.ts, raw, partial(_same, frame.image))
                if tracker.done:
                    break
        finally:
            ahead.cancel()
            ahead.add_done_callback(_ignore_outcome)
            await asyncio.shield(self._run(frames.close))
        return await self._run(_result, tracker, s.url)

    async def ask(
        self, jpeg: bytes, width: int, height: int, min_confidence: float | None = None
    ) -> list[RawDetection]:
        """Post one JPEG and return its detections.

        The server reports from ``min_confidence`` on (at most 0.25; None: the
        detector's own rules).
        """
        s = self._settings
        wanted = s.rules.min_confidence if min_confidence is None else min_confidence
        form = aiohttp.FormData()
        form.add_field("image", jpeg, filename="frame.jpg", content_type="image/jpeg")
        form.add_field("min_confidence", str(min(wanted, 0.25)))
        if s.api_key is not None:
            form.add_field("api_key", s.api_key.get_secret_value())
        try:
            async with self._session.post(
                s.endpoint, data=form, timeout=aiohttp.ClientTimeout(total=s.timeout)
            ) as response:
                if response.status in (401, 403):
                    raise CredentialsRejected(
                        "remote", "the detection server refused the API key"
                    )
                if response.status >= 500 or response.status == 429:
                    raise RemoteDetectorUnavailable(
                        f"the server answered HTTP {response.status}",
                        Fault.SERVER_ERROR,
                    )
                if response.status != 200:
                    raise RemoteDetectorError(
                        f"the server answered HTTP {response.status}"
                    )
                body = await read_json(response)
        except UnusableAnswer as err:
            raise RemoteDetectorError(str(err)) from err
        except TimeoutError as err:
            raise RemoteDetectorUnavailable(
                f"no answer from the server within {s.timeout:g} s"
            ) from err
        except aiohttp.ClientError as err:
            raise RemoteDetectorUnavailable(f"cannot reach the server: {err}") from err
        return parse_predictions(body, width, height)

    async def check(self) -> None:
        """Send a blank frame: raises RemoteDetectorError if it does not work."""
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64)).save(buffer, format="JPEG")
        await self.ask(buffer.getvalue(), 64, 64)


def _ignore_outcome(future: asyncio.Future[Any]) -> None:
    """Retrieve a frame decoded ahead but not needed (no unretrieved error)."""
    if not future.cancelled():
        future.exception()


def _same(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return image


def _result(tracker: HitTracker, url: str) -> FilterResult:
    return tracker.result(f"remote {redact_url(url)}")  # stored: no credentials
