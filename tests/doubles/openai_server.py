"""An OpenAI-compatible Chat Completions server on 127.0.0.1.

It checks each request the way the real API would need it (bearer auth, a model,
image parts as base64 JPEG data URLs, a strict json_schema response format) and
answers according to ``mode``: besides the named faults, ``content`` puts any JSON
value in the message's content, ``answer`` serves any JSON value as the whole
answer (NaN included), ``raw`` any bytes, and ``huge`` / ``huge_stream`` a 6 MB
answer (with a Content-Length / chunked without one).
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
import io
import json
from typing import Any

from aiohttp import web
from PIL import Image

from .oversize import oversize_answer

GOOD_ANSWER = {
    "risk_level": "medium",
    "activity_type": "delivery",
    "summary": "A courier leaves a parcel at the door and walks away.",
    "observations": ["parcel left on the doormat"],
    "entities": [{"at_seconds": 2.0, "entity": "person", "action": "walks up"}],
    "requires_review": False,
}


@dataclass
class OpenAIServer:
    """The double's state: what it answers and what it received."""

    api_key: str = "sk-test"
    mode: str = "ok"
    fail_times: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    content: Any = None
    """The message content ``content`` mode answers."""
    answer: Any = None
    """The whole answer ``answer`` mode serves."""
    raw: bytes = b""
    """The body ``raw`` mode serves."""

    def _check(self, body: dict[str, Any]) -> None:
        assert body["model"]
        fmt = body["response_format"]
        assert fmt["type"] == "json_schema"
        assert fmt["json_schema"]["strict"] is True
        assert fmt["json_schema"]["schema"]["additionalProperties"] is False
        images = [
            part["image_url"]["url"]
            for part in body["messages"][0]["content"]
            if part["type"] == "image_url"
        ]
        assert images
        for url in images:
            prefix = "data:image/jpeg;base64,"
            assert url.startswith(prefix)
            Image.open(io.BytesIO(base64.b64decode(url[len(prefix) :]))).verify()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """POST /v1/chat/completions."""
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response(
                {"error": {"message": "Incorrect API key provided"}}, status=401
            )
        body = await request.json()
        self._check(body)
        self.requests.append(body)
        if self.fail_times > 0:
            self.fail_times -= 1
            return web.json_response(
                {"error": {"message": "rate limited"}},
                status=429,
                headers={"Retry-After": "3"},
            )
        if self.mode == "slow":
            await asyncio.sleep(2)
        if self.mode == "answer":
            return web.Response(
                text=json.dumps(self.answer), content_type="application/json"
            )
        if self.mode == "raw":
            return web.Response(body=self.raw, content_type="application/json")
        if self.mode in ("huge", "huge_stream"):
            return await self._huge(request)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if self.mode == "ok":
            message["content"] = json.dumps(GOOD_ANSWER)
        elif self.mode == "content":
            message["content"] = self.content
        elif self.mode == "malformed":
            message["content"] = '{"risk_level": "medium", "summary": '
        elif self.mode == "refusal":
            message["refusal"] = "I can't help with that."
        elif self.mode == "truncated":
            message["content"] = json.dumps(GOOD_ANSWER)[:40]
            finish = "length"
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 1200, "completion_tokens": 80,
                          "total_tokens": 1280},
            }
        )  # fmt: skip

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        """A 6 MB answer: a good message padded with a long unknown field."""
        body = json.dumps(
            {
                "choices": [
                    {
                        "message": {"content": json.dumps(GOOD_ANSWER)},
                        "finish_reason": "stop",
                    }
                ],
                "padding": "x" * (6 * 1024 * 1024),
            }
        ).encode()
        return await oversize_answer(request, body, chunked=self.mode != "huge")

    async def models(self, request: web.Request) -> web.StreamResponse:
        """GET /v1/models."""
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        return web.json_response(
            {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}
        )

    async def start(self) -> web.AppRunner:
        """Serve on a free port of 127.0.0.1; set ``url`` (the /v1 base)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.handle)
        app.router.add_get("/v1/models", self.models)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
        return runner
