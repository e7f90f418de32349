"""Clip analysis: the OpenAI-compatible analyzer against a checking double, frame
selection, and cost controls."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import io
from pathlib import Path

from aiohttp import ClientSession
from PIL import Image
import pytest

from custom_components.homesec.engine.analyze.budget import (
    AnalysisBudget,
    BudgetedAnalyzer,
    BudgetSettings,
)
from custom_components.homesec.engine.analyze.frame_selection import (
    FrameSelection,
    choose,
    select_jpegs,
)
from custom_components.homesec.engine.analyze.openai import (
    OpenAIAnalyzer,
    OpenAISettings,
)
from custom_components.homesec.engine.errors import (
    AnalysisSkipped,
    AnalyzerError,
    CredentialsRejected,
)
from custom_components.homesec.engine.models import (
    Box,
    Clip,
    Detection,
    FilterResult,
    RiskLevel,
)
from custom_components.homesec.engine.policy import DefaultAlertPolicy, PolicySettings

from .doubles.openai_server import OpenAIServer
from .pipeline_parts import run_blocking

PERSON = FilterResult(
    detected_classes=["person"],
    confidence=0.9,
    frames_sampled=6,
    best=Detection(
        label="person",
        confidence=0.9,
        box=Box(x1=0.19, y1=0.28, x2=0.34, y2=0.72),
        frame_ts=2.0,
    ),
    model="test",
)


def _clip(path: Path) -> Clip:
    return Clip(
        clip_id="front_door_20261124_101500",
        camera_name="front_door",
        local_path=path,
        start_ts=datetime.now(UTC),
        source_type="test",
    )


def _analyzer(
    server: OpenAIServer, session: ClientSession, slept: list[float], **settings: object
) -> OpenAIAnalyzer:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return OpenAIAnalyzer(
        OpenAISettings.model_validate(
            {"base_url": server.url, "api_key": "sk-test", **settings}
        ),
        session,
        run_blocking,
        lambda camera: ("Front door", "Parcels are delivered here."),
        sleep=sleep,
    )


async def test_well_formed_answer(openai_server: OpenAIServer, red_clip: Path) -> None:
    """Frames, schema and auth go out; the validated answer comes back."""
    # Given the analyzer pointed at the double
    slept: list[float] = []
    async with ClientSession() as session:
        analyzer = _analyzer(openai_server, session, slept)

        # When a clip with a person is analysed
        result = await analyzer.analyze(_clip(red_clip), PERSON)

    # Then the summary, risk and usage are the model's
    assert result.risk_level is RiskLevel.MEDIUM
    assert result.activity_type == "delivery"
    assert result.summary.startswith("A courier")
    assert "2.0s person: walks up" in result.observations
    assert result.usage is not None
    assert result.usage.total == 1280
    # Then one request was sent with 4 images and the camera's context
    (request,) = openai_server.requests
    parts = request["messages"][0]["content"]
    assert sum(part["type"] == "image_url" for part in parts) == 4
    assert "Parcels are delivered here." in parts[0]["text"]
    assert request["max_completion_tokens"] == 700
    assert slept == []


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("malformed", "not the requested JSON"),
        ("refusal", "refused: I can't help with that"),
        ("truncated", "cut off"),
        ("slow", "no answer within 0.5 s"),
    ],
)
async def test_bad_answers_are_errors(
    openai_server: OpenAIServer, red_clip: Path, mode: str, message: str
) -> None:
    """Malformed, refused, truncated and late answers are AnalyzerErrors."""
    # Given a server answering badly in one way
    openai_server.mode = mode
    async with ClientSession() as session:
        analyzer = _analyzer(openai_server, session, [], timeout=0.5)

        # When a clip is analysed, then the error says what went wrong
        with pytest.raises(AnalyzerError, match=message):
            await analyzer.analyze(_clip(red_clip), PERSON)
    # Then it was asked once (nothing to retry)
    assert len(openai_server.requests) == 1


async def test_rate_limit_honours_retry_after(
    openai_server: OpenAIServer, red_clip: Path
) -> None:
    """429 answers are retried after Retry-After, a bounded number of times."""
    # Given a server that rate-limits twice, then answers
    openai_server.fail_times = 2
    slept: list[float] = []
    async with ClientSession() as session:
        analyzer = _analyzer(openai_server, session, slept, max_attempts=3)

        # When a clip is analysed, then it succeeds after waiting 3 s twice
        result = await analyzer.analyze(_clip(red_clip), PERSON)
        assert result.activity_type == "delivery"
        assert slept == [3.0, 3.0]

        # When the server rate-limits more often than the attempts allow
        openai_server.fail_times = 5
        with pytest.raises(AnalyzerError, match="HTTP 429"):
            await analyzer.analyze(_clip(red_clip), PERSON)
    # Then it gave up after three attempts
    assert len(openai_server.requests) == 3 + 3


async def test_refused_key(openai_server: OpenAIServer, red_clip: Path) -> None:
    """A wrong API key is reported as such."""
    # Given a key the server does not know
    openai_server.api_key = "sk-other"
    async with ClientSession() as session:
        analyzer = _analyzer(openai_server, session, [])
        # When a clip is analysed, then the key is named as the problem
        with pytest.raises(CredentialsRejected, match="refused the API key") as err:
            await analyzer.analyze(_clip(red_clip), PERSON)
    assert err.value.service == "openai"


def test_choose_weights_towards_the_detection() -> None:
    """Half the frames are nearest the detection, the rest spread over the clip."""
    # Given 12 sampled frames 0.5 s apart and a detection at 2.0 s
    stamps = [i * 0.5 for i in range(12)]

    # When 4 are chosen
    chosen = [stamps[i] for i in choose(stamps, 4, focus=2.0)]

    # Then two surround 2.0 s and two cover the clip's start and end
    assert chosen == [0.0, 1.5, 2.0, 5.5]
    assert choose(stamps, 4, focus=None) == [0, 4, 7, 11]
    assert choose(stamps[:3], 4, focus=1.0) == [0, 1, 2]


def test_frame_size_quality_and_crop(red_clip: Path) -> None:
    """Frames are at most max_size on their long edge; crop keeps the person."""
    # Given the default selection and a cropping one
    plain = select_jpegs(red_clip, PERSON, FrameSelection(max_size=320))
    cropped = select_jpegs(red_clip, PERSON, FrameSelection(max_size=640, crop=True))

    # Then the sizes follow the settings
    assert len(plain) == 4
    assert Image.open(io.BytesIO(plain[0][1])).size == (320, 180)
    width, height = Image.open(io.BytesIO(cropped[0][1])).size
    assert width == 320  # half the frame: the box grown by half, at least 50 %
    assert height < 360


async def test_budget_limits_calls_per_day() -> None:
    """Daily calls and tokens are limited, and counted again from midnight."""
    # Given a budget of two calls and 2,000 tokens
    today = [date(2026, 11, 24)]
    budget = AnalysisBudget(
        BudgetSettings(daily_calls=2, daily_tokens=2000), today=lambda: today[0]
    )

    # When two calls are counted
    budget.check()
    budget.record(None)
    budget.check()
    budget.record(None)

    # Then a third is refused, but the clip may still alert
    with pytest.raises(AnalysisSkipped, match="2 model calls") as skipped:
        budget.check()
    assert skipped.value.alert is True

    # When a new day starts
    today[0] = date(2026, 11, 25)

    # Then the counters reset and calls go again
    assert budget.calls == 0
    budget.check()


async def test_policy_cools_a_camera_down_after_an_alert() -> None:
    """After an alert, the camera's clips get no summary during its cooldown."""
    # Given a policy with a 10 min cooldown, and a porch camera that alerted
    policy = DefaultAlertPolicy(PolicySettings(cooldown=timedelta(minutes=10)))
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    policy.alerted("porch", now)

    # When person clips of the porch and the garage come 5 and 11 min later
    porch_soon = policy.skip_analysis("porch", PERSON, now + timedelta(minutes=5))
    garage_soon = policy.skip_analysis("garage", PERSON, now + timedelta(minutes=5))
    porch_later = policy.skip_analysis("porch", PERSON, now + timedelta(minutes=11))

    # Then only the porch's clip inside its cooldown is skipped, saying why
    assert porch_soon == "the camera is in its 10 min cooldown after an alert"
    assert garage_soon is None
    assert porch_later is None


async def test_budgeted_analyzer_counts_tokens_and_cost(
    openai_server: OpenAIServer, red_clip: Path
) -> None:
    """Calls and tokens are counted; past the token budget, analysis stops."""
    # Given the analyzer behind a 2,000-token budget
    budget = AnalysisBudget(BudgetSettings(daily_tokens=2000))
    async with ClientSession() as session:
        analyzer = BudgetedAnalyzer(_analyzer(openai_server, session, []), budget)

        # When two clips are analysed (1,280 tokens each)
        await analyzer.analyze(_clip(red_clip), PERSON)
        await analyzer.analyze(_clip(red_clip), PERSON)

        # Then the third is skipped before any request
        with pytest.raises(AnalysisSkipped, match="2000 tokens"):
            await analyzer.analyze(_clip(red_clip), PERSON)
    assert len(openai_server.requests) == 2
    assert (budget.calls, budget.tokens) == (2, 2560)
    assert budget.cost == pytest.approx(2400 * 0.15e-6 + 160 * 0.6e-6, abs=1e-4)
