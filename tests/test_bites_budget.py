"""The cost estimate prices input and output tokens, each at its own price."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from custom_components.homesec.engine.analyze.budget import (
    AnalysisBudget,
    BudgetedAnalyzer,
    BudgetSettings,
)
from custom_components.homesec.engine.interfaces import Analyzer
from custom_components.homesec.engine.models import (
    AnalysisResult,
    Clip,
    FilterResult,
    RiskLevel,
    TokenUsage,
)

PERSON = FilterResult(
    detected_classes=["person"], confidence=0.9, frames_sampled=4, model="m"
)


class UsageAnalyzer(Analyzer):
    """Answers every clip with the same summary and token usage."""

    def __init__(self, usage: TokenUsage) -> None:
        """Report ``usage`` for each call."""
        self.usage = usage

    async def analyze(self, clip: Clip, detections: FilterResult) -> AnalysisResult:
        """Return a summary that cost ``usage``."""
        return AnalysisResult(
            risk_level=RiskLevel.LOW,
            activity_type="passerby",
            summary="Someone walks by.",
            usage=self.usage,
        )


def _clip(tmp_path: Path) -> Clip:
    return Clip(
        clip_id="porch_20261124_100000",
        camera_name="porch",
        local_path=tmp_path / "porch_20261124_100000.mp4",
        start_ts=datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        source_type="test",
    )


async def test_cost_prices_input_and_output_tokens(tmp_path: Path) -> None:
    """Two calls of 1.2 M input and 0.8 M output tokens at the default prices."""
    # Given the default prices (0.15 per million input, 0.60 per million output)
    budget = AnalysisBudget(BudgetSettings(daily_tokens=None))
    analyzer = BudgetedAnalyzer(
        UsageAnalyzer(TokenUsage(prompt_tokens=1_200_000, completion_tokens=800_000)),
        budget,
    )

    # When two clips are analysed
    await analyzer.analyze(_clip(tmp_path), PERSON)
    await analyzer.analyze(_clip(tmp_path), PERSON)

    # Then the cost is 2 x (1.2 x 0.15 + 0.8 x 0.60) = 2 x (0.18 + 0.48)
    assert (budget.calls, budget.tokens) == (2, 4_000_000)
    assert budget.cost == 1.32


def test_output_tokens_alone_have_a_cost() -> None:
    """A call billed only for output tokens costs their price, at the set price."""
    # Given prices of 2.50 per million input and 10.00 per million output tokens
    budget = AnalysisBudget(
        BudgetSettings(price_per_million_input=2.5, price_per_million_output=10.0)
    )

    # When a call used no input and 30,000 output tokens, then one more input-only
    budget.record(TokenUsage(prompt_tokens=0, completion_tokens=30_000))
    only_output = budget.cost
    budget.record(TokenUsage(prompt_tokens=40_000, completion_tokens=0))

    # Then the first costs 0.30, the two together 0.30 + 0.10
    assert only_output == 0.3
    assert budget.cost == 0.4
