"""Cost controls: daily call and token budgets, and the cost today."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import AnalysisSkipped
from ..interfaces import Analyzer
from ..models import AnalysisResult, Clip, FilterResult, TokenUsage


class BudgetSettings(BaseModel):
    """Limits per hub (None: no limit) and prices for the cost estimate."""

    model_config = ConfigDict(frozen=True)

    daily_calls: int | None = Field(default=200, ge=0)
    daily_tokens: int | None = Field(default=400_000, ge=0)
    price_per_million_input: float = Field(default=0.15, ge=0)
    price_per_million_output: float = Field(default=0.60, ge=0)


class BudgetSnapshot(BaseModel):
    """What the budget counted on one day (saved across restarts)."""

    model_config = ConfigDict(frozen=True)

    day: date
    calls: int = Field(ge=0)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


class AnalysisBudget:
    """Counts today's calls and tokens."""

    def __init__(
        self, settings: BudgetSettings, today: Callable[[], date] = date.today
    ) -> None:
        """Start counting for ``today()``."""
        self.settings = settings
        self._today = today
        self._day = today()
        self._calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self._listeners: list[Callable[[], None]] = []

    def watch(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each counted call (to save the counts)."""
        self._listeners.append(listener)

    def snapshot(self) -> dict[str, Any]:
        """Today's counts, JSON-ready."""
        self._roll()
        return BudgetSnapshot(
            day=self._day,
            calls=self._calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
        ).model_dump(mode="json")

    def restore(self, data: Mapping[str, Any]) -> bool:
        """Count on from a snapshot of today; ignore another day's.

        Raises ``ValueError`` (a pydantic ``ValidationError``) when ``data`` is
        no snapshot. Returns whether the counts were taken.
        """
        saved = BudgetSnapshot.model_validate(data)
        self._roll()
        if saved.day != self._day:
            return False
        self._calls = saved.calls
        self.prompt_tokens = saved.prompt_tokens
        self.completion_tokens = saved.completion_tokens
        return True

    def _roll(self) -> None:
        if (day := self._today()) != self._day:
            self._day = day
            self._calls = self.prompt_tokens = self.completion_tokens = 0

    @property
    def calls(self) -> int:
        """Model calls made today."""
        self._roll()
        return self._calls

    @property
    def tokens(self) -> int:
        """Tokens used today."""
        self._roll()
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost(self) -> float:
        """Estimated cost today, in the currency of the prices."""
        self._roll()
        s = self.settings
        return round(
            self.prompt_tokens * s.price_per_million_input / 1e6
            + self.completion_tokens * s.price_per_million_output / 1e6,
            4,
        )

    def check(self) -> None:
        """Raise AnalysisSkipped when a limit forbids a call now."""
        self._roll()
        s = self.settings
        if s.daily_calls is not None and self._calls >= s.daily_calls:
            raise AnalysisSkipped(
                f"the daily budget of {s.daily_calls} model calls is used up",
                alert=True,
            )
        if s.daily_tokens is not None and self.tokens >= s.daily_tokens:
            raise AnalysisSkipped(
                f"the daily budget of {s.daily_tokens} tokens is used up", alert=True
            )

    def record(self, usage: TokenUsage | None) -> None:
        """Count one call and its tokens."""
        self._roll()
        self._calls += 1
        if usage is not None:
            self.prompt_tokens += usage.prompt_tokens
            self.completion_tokens += usage.completion_tokens
        for listener in self._listeners:
            listener()


class BudgetedAnalyzer(Analyzer):
    """Checks the budget before each call and counts what it cost."""

    def __init__(self, inner: Analyzer, budget: AnalysisBudget) -> None:
        """Wrap ``inner``."""
        self.inner = inner
        self.retries_itself = inner.retries_itself
        self.budget = budget

    async def analyze(self, clip: Clip, detections: FilterResult) -> AnalysisResult:
        """Analyse unless a limit says no (AnalysisSkipped)."""
        self.budget.check()
        try:
            result = await self.inner.analyze(clip, detections)
        except BaseException:
            self.budget.record(None)
            raise
        self.budget.record(result.usage)
        return result
