"""OpenAI-compatible Chat Completions analyzer (OpenAI, Ollama, LocalAI, ...).

Frames go as base64 JPEG data URLs; the answer is constrained by a strict JSON
schema and validated with pydantic. 429 and 5xx answers are retried a bounded
number of times, honouring Retry-After.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
import json
import math
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ..answers import UnusableAnswer, read_json
from ..errors import AnalyzerError, CredentialsRejected
from ..interfaces import Analyzer, BlockingRunner
from ..models import AnalysisResult, Clip, FilterResult, TokenUsage
from ..retry import Sleep
from .frame_selection import FrameSelection, select_jpegs
from .prompt import BASE_PROMPT, instructions
from .schema import DEFAULT_ACTIVITY_TYPES, ModelOutput, first_problem, json_schema

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
MAX_TEXT_CHARS = 200
MAX_TOKENS = 10_000_000
"""More than any model reads or writes in one call."""

type CameraContext = Callable[[str], tuple[str, str | None]]
"""Camera id -> (display name, prompt context)."""


class OpenAISettings(BaseModel):
    """Server, model and limits of the OpenAI-compatible analyzer."""

    model_config = ConfigDict(frozen=True)

    base_url: str = "https://api.openai.com/v1"
    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    timeout: float = Field(default=60.0, gt=0)
    token_parameter: str = "max_completion_tokens"  # noqa: S105 - a field name
    max_output_tokens: int = Field(default=700, ge=50)
    max_attempts: int = Field(default=3, ge=1, le=6)
    retry_delay: float = Field(default=2.0, ge=0)
    activity_types: tuple[str, ...] = DEFAULT_ACTIVITY_TYPES
    base_prompt: str = BASE_PROMPT
    frames: FrameSelection = FrameSelection()


def request_body(
    settings: OpenAISettings, prompt: str, jpegs: list[tuple[float, bytes]]
) -> dict[str, Any]:
    """The Chat Completions request for these frames."""
    content: list[dict[str, Any]] = [{"type": "text", "text": prompt}]
    for ts, jpeg in jpegs:
        content.append({"type": "text", "text": f"Frame at {ts:.1f} s:"})
        data = base64.b64encode(jpeg).decode()
        content.append(
            {
                "type": "image_url",
                "image_url": {"url": f"data:image/jpeg;base64,{data}", "detail": "low"},
            }
        )
    return {
        "model": settings.model,
        "messages": [{"role": "user", "content": content}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "clip_analysis",
                "strict": True,
                "schema": json_schema(settings.activity_types),
            },
        },
        settings.token_parameter: settings.max_output_tokens,
    }


def parse_reply(body: Any, activity_types: tuple[str, ...]) -> AnalysisResult:
    """The analysis in a Chat Completions answer; AnalyzerError if unusable."""
    choice, message = _message(body)
    if refusal := message.get("refusal"):
        raise AnalyzerError(f"the model refused: {str(refusal)[:MAX_TEXT_CHARS]}")
    if choice.get("finish_reason") == "length":
        raise AnalyzerError("the answer was cut off (output token limit reached)")
    try:
        output = ModelOutput.model_validate(json.loads(_text(message.get("content"))))
    except (ValueError, RecursionError) as err:
        # ValidationError and JSONDecodeError are ValueErrors
        detail = f" ({first_problem(err)})" if isinstance(err, ValidationError) else ""
        raise AnalyzerError(f"the answer is not the requested JSON{detail}") from err
    return output.to_result(activity_types).model_copy(
        update={"usage": token_usage(body.get("usage"))}
    )


def _message(body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The first choice and its message; AnalyzerError if there is none."""
    choices = body.get("choices") if isinstance(body, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(choice, dict) or not isinstance(message, dict):
        raise AnalyzerError("the answer has no message")
    return choice, message


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def token_usage(usage: Any) -> TokenUsage:
    """The tokens the server reports; a count it leaves out or garbles is 0."""
    counts = usage if isinstance(usage, dict) else {}
    return TokenUsage(
        prompt_tokens=_count(counts.get("prompt_tokens")),
        completion_tokens=_count(counts.get("completion_tokens")),
    )


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if not math.isfinite(value) or value < 0:
        return 0
    return int(min(value, MAX_TOKENS))


def retry_after(headers: Any, fallback: float) -> float:
    """Seconds to wait before retrying (Retry-After in seconds, capped)."""
    try:
        return min(MAX_RETRY_AFTER, max(0.0, float(headers.get("Retry-After", ""))))
    except ValueError:
        return fallback


class OpenAIAnalyzer(Analyzer):
    """Sends the selected frames and reads the structured answer."""

    retries_itself = True  # 429/5xx, honouring Retry-After

    def __init__(
        self,
        settings: OpenAISettings,
        session: aiohttp.ClientSession,
        run_blocking: BlockingRunner,
        camera_context: CameraContext,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Use ``session`` (Home Assistant's shared one) for the calls."""
        self._settings = settings
        self._session = session
        self._run = run_blocking
        self._camera = camera_context
        self._sleep = sleep

    async def analyze(self, clip: Clip, detections: FilterResult) -> AnalysisResult:
        """Select frames, ask the model, validate the answer."""
        s = self._settings
        jpegs = await self._run(select_jpegs, clip.local_path, detections, s.frames)
        title, context = self._camera(clip.camera_name)
        prompt = instructions(
            title, context, detections, s.activity_types, s.base_prompt
        )
        body = await self.call(request_body(s, prompt, jpegs))
        return parse_reply(body, s.activity_types)

    async def call(self, payload: dict[str, Any]) -> Any:
        """POST to /chat/completions with bounded retries; return the JSON."""
        s = self._settings
        headers = {}
        if s.api_key is not None:
            headers["Authorization"] = f"Bearer {s.api_key.get_secret_value()}"
        url = s.base_url.rstrip("/") + "/chat/completions"
        for attempt in range(1, s.max_attempts + 1):
            try:
                async with self._session.post(
                    url,
                    json=payload,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=s.timeout),
                ) as response:
                    if response.status in RETRY_STATUSES and attempt < s.max_attempts:
                        delay = retry_after(
                            response.headers, s.retry_delay * 2 ** (attempt - 1)
                        )
                        await self._sleep(delay)
                        continue
                    if response.status in (401, 403):
                        raise CredentialsRejected(
                            "openai", "the server refused the API key"
                        )
                    if response.status != 200:
                        raise AnalyzerError(
                            f"the server answered HTTP {response.status}"
                        )
                    return await read_json(response)
            except UnusableAnswer as err:
                raise AnalyzerError(str(err)) from err
            except TimeoutError as err:
                raise AnalyzerError(f"no answer within {s.timeout:g} s") from err
            except aiohttp.ClientError as err:
                raise AnalyzerError(f"cannot reach the server: {err}") from err
        raise AnalyzerError("no attempts left")  # pragma: no cover - loop returns
