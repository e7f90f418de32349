"""A CodeProject.AI-compatible detection server on 127.0.0.1 that reports a
person wherever the posted frame is red.

Besides the faults its ``mode`` names, it can hold each request until
released (``hold``), serve a given answer (``answer``: any JSON value, NaN
included; ``raw``: any bytes) or an answer too large to read (``huge``, with a
Content-Length; ``huge_stream``, chunked without one)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import json
from typing import Any

from aiohttp import web
import numpy as np
from PIL import Image

from .oversize import oversize_answer


@dataclass
class DetectionServer:
    """A CodeProject.AI-compatible detection server: red pixels are people."""

    mode: str = "ok"
    api_key: str | None = None
    """When set, requests without this ``api_key`` get DeepStack's 401."""
    requests: list[dict[str, object]] = field(default_factory=list)
    url: str = ""
    answer: Any = None
    """What ``answer`` mode serves as JSON."""
    raw: bytes = b""
    """What ``raw`` mode serves as the body."""
    released: asyncio.Event = field(default_factory=asyncio.Event)
    """Lets requests held in ``hold`` mode go on."""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """POST /v1/vision/detection."""
        form = await request.post()
        if self.api_key is not None and form.get("api_key") != self.api_key:
            return web.json_response(
                {"success": False, "error": "Incorrect api key"}, status=401
            )
        image_field = form["image"]
        assert isinstance(image_field, web.FileField)
        image = np.asarray(Image.open(image_field.file).convert("RGB")).astype(int)
        self.requests.append(
            {"min_confidence": form.get("min_confidence"), "size": image.shape}
        )
        if self.mode == "error":
            return web.json_response({"success": False, "error": "model crashed"})
        if self.mode == "http500":
            return web.Response(status=500, text="boom")
        if self.mode == "slow":
            await asyncio.sleep(2)
        if self.mode == "hold":
            await self.released.wait()
        if self.mode == "answer":
            return web.Response(
                text=json.dumps(self.answer), content_type="application/json"
            )
        if self.mode == "raw":
            return web.Response(body=self.raw, content_type="application/json")
        if self.mode in ("huge", "huge_stream"):
            return await self._huge(request)
        if self.mode == "malformed":
            return web.json_response({"success": True, "predictions": [{"x": 1}]})
        red = (image[:, :, 0] - image[:, :, 1] / 2 - image[:, :, 2] / 2) > 90
        predictions = []
        if red.any():
            ys, xs = np.nonzero(red)
            predictions.append(
                {
                    "label": "person",
                    "confidence": 0.88,
                    "x_min": int(xs.min()),
                    "y_min": int(ys.min()),
                    "x_max": int(xs.max()) + 1,
                    "y_max": int(ys.max()) + 1,
                }
            )
        return web.json_response(
            {"success": True, "predictions": predictions, "count": len(predictions)}
        )

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        """A valid answer of 6 MB: no predictions, padded with a long text."""
        padding = "x" * (6 * 1024 * 1024)
        body = json.dumps(
            {"success": True, "predictions": [], "error": padding}
        ).encode()
        return await oversize_answer(request, body, chunked=self.mode != "huge")

    async def start(self) -> web.AppRunner:
        """Serve on a free port of 127.0.0.1; set ``url``."""
        app = web.Application()
        app.router.add_post("/v1/vision/detection", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        return runner
