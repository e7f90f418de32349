"""Remote backend: a DeepStack / CodeProject.AI object detection server.

``POST {url}/v1/vision/detection`` with the frame as the multipart field
``image`` and ``min_confidence``; the answer lists ``predictions`` with
``label``, ``confidence`` and pixel ``x_min``/``y_min``/``x_max``/``y_max``.
For Home Assistant OS, where local model runtimes do not install.
"""

from __future__ import annotations

from functools import partial
import io
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ..errors import CredentialsRejected, DetectorUnavailable, HomeSecError
from ..interfaces import BlockingRunner, ObjectDetector
from ..models import Box, Clip, FilterResult
from ..redact import redact_url
from .frames import sample_frames
from .rules import DetectionRules, RawDetection
from .scan import HitTracker

DETECTION_PATH = "/v1/vision/detection"


class RemoteDetectorError(HomeSecError):
    """The detection server failed or answered something unusable."""


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


def _sampled_jpegs(
    path: Path, sample_fps: float, side: int, quality: int
) -> list[tuple[float, NDArray[np.uint8], bytes]]:
    """Sampled frames with their JPEG encodings (blocking)."""
    out = []
    for sampled in sample_frames(path, sample_fps, side):
        buffer = io.BytesIO()
        Image.fromarray(sampled.image).save(buffer, format="JPEG", quality=quality)
        out.append((sampled.ts, sampled.image, buffer.getvalue()))
    return out


def parse_predictions(body: Any, width: int, height: int) -> list[RawDetection]:
    """Turn a server answer into detections; raise on an unusable answer."""
    if not isinstance(body, dict) or body.get("success") is False:
        error = body.get("error") if isinstance(body, dict) else None
        raise RemoteDetectorError(f"the server reported a failure: {error}")
    predictions = body.get("predictions")
    if not isinstance(predictions, list):
        raise RemoteDetectorError("the answer has no predictions list")
    found = []
    for item in predictions:
        try:
            found.append(
                RawDetection(
                    label=str(item["label"]),
                    confidence=float(item["confidence"]),
                    box=Box(
                        x1=max(0.0, min(1.0, float(item["x_min"]) / width)),
                        y1=max(0.0, min(1.0, float(item["y_min"]) / height)),
                        x2=max(0.0, min(1.0, float(item["x_max"]) / width)),
                        y2=max(0.0, min(1.0, float(item["y_max"]) / height)),
                    ),
                )
            )
        except (KeyError, TypeError, ValueError) as err:
            raise RemoteDetectorError(f"malformed prediction {item!r}") from err
    return found


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

    async def detect(self, clip: Clip) -> FilterResult:
        """Sample and encode off the loop, then ask the server frame by frame."""
        s = self._settings
        frames = await self._run(
            _sampled_jpegs, clip.local_path, s.sample_fps, s.side, s.jpeg_quality
        )
        tracker = HitTracker(s.rules)
        for ts, image, jpeg in frames:
            raw = await self.ask(jpeg, image.shape[1], image.shape[0])
            tracker.add(ts, raw, partial(_same, image))
            if tracker.done:
                break
        return await self._run(_result, tracker, s.url)

    async def ask(self, jpeg: bytes, width: int, height: int) -> list[RawDetection]:
        """Post one JPEG and return its detections."""
        s = self._settings
        form = aiohttp.FormData()
        form.add_field("image", jpeg, filename="frame.jpg", content_type="image/jpeg")
        form.add_field("min_confidence", str(min(s.rules.min_confidence, 0.25)))
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
                        f"the server answered HTTP {response.status}"
                    )
                if response.status != 200:
                    raise RemoteDetectorError(
                        f"the server answered HTTP {response.status}"
                    )
                body = await response.json(content_type=None)
        except TimeoutError as err:
            raise RemoteDetectorUnavailable(
                f"no answer from the server within {s.timeout:g} s"
            ) from err
        except aiohttp.ClientError as err:
            raise RemoteDetectorUnavailable(f"cannot reach the server: {err}") from err
        except ValueError as err:
            raise RemoteDetectorError("the server did not answer JSON") from err
        return parse_predictions(body, width, height)

    async def check(self) -> None:
        """Send a blank frame: raises RemoteDetectorError if it does not work."""
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64)).save(buffer, format="JPEG")
        await self.ask(buffer.getvalue(), 64, 64)


def _same(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return image


def _result(tracker: HitTracker, url: str) -> FilterResult:
    return tracker.result(f"remote {redact_url(url)}")  # stored: no credentials
