"""The structured output asked of the model, and its validation."""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationError,
)

from ..models import AnalysisResult, RiskLevel

MAX_SUMMARY_CHARS = 600
MAX_ITEMS = 20
MAX_ITEM_CHARS = 300

DEFAULT_ACTIVITY_TYPES = (
    "delivery",
    "visitor",
    "resident",
    "passerby",
    "vehicle_activity",
    "animal",
    "loitering",
    "suspicious",
    "break_in_attempt",
    "other",
)


def _shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _summary(text: str) -> str:
    text = _shorten(text, MAX_SUMMARY_CHARS)
    if not text:
        raise ValueError("the summary is empty")
    return text


def _as_list(value: Any) -> Any:
    """None is no items, a lone string one item."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def _items(items: list[str]) -> list[str]:
    kept = (_shorten(item, MAX_ITEM_CHARS) for item in items)
    return [item for item in kept if item][:MAX_ITEMS]


def _seconds(value: float | None) -> float | None:
    """A time in the clip; an impossible one (negative, NaN, infinite) is none."""
    return value if value is not None and math.isfinite(value) and value >= 0 else None


type Summary = Annotated[str, AfterValidator(_summary)]
"""One or two sentences: stripped, shortened to MAX_SUMMARY_CHARS, not empty."""
type Observations = Annotated[
    list[str], BeforeValidator(_as_list), AfterValidator(_items)
]
"""At most MAX_ITEMS short non-empty lines."""


def first_problem(err: ValidationError) -> str:
    """Where and why an answer failed validation (the answer itself left out)."""
    problem = err.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else problem["msg"]


class TimelineEntry(BaseModel):
    """One thing seen in the clip."""

    model_config = ConfigDict(extra="ignore")

    at_seconds: Annotated[float | None, AfterValidator(_seconds)]
    entity: Annotated[str, AfterValidator(lambda text: _shorten(text, 100))]
    action: Annotated[str, AfterValidator(lambda text: _shorten(text, 200))]


class ModelOutput(BaseModel):
    """What the model must answer (validated, and trimmed to size, before use)."""

    model_config = ConfigDict(extra="ignore")

    risk_level: RiskLevel
    activity_type: str
    summary: Summary
    observations: Observations
    entities: Annotated[
        list[TimelineEntry],
        BeforeValidator(_as_list),
        AfterValidator(lambda entries: entries[:MAX_ITEMS]),
    ]
    requires_review: bool

    def to_result(self, activity_types: Sequence[str]) -> AnalysisResult:
        """The pipeline's AnalysisResult; an unknown activity becomes ``other``."""
        activity = (
            self.activity_type if self.activity_type in activity_types else "other"
        )
        timeline = [
            (f"{e.at_seconds:.1f}s " if e.at_seconds is not None else "")
            + f"{e.entity}: {e.action}"
            for e in self.entities
        ]
        return AnalysisResult(
            risk_level=self.risk_level,
            activity_type=activity,
            summary=self.summary,
            observations=[*self.observations, *timeline],
            requires_review=self.requires_review,
        )


def json_schema(activity_types: Sequence[str]) -> dict[str, Any]:
    """A strict JSON schema (every field required, nothing extra)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "risk_level", "activity_type", "summary", "observations", "entities",
            "requires_review",
        ],
        "properties": {
            "risk_level": {"type": "string", "enum": [r.value for r in RiskLevel]},
            "activity_type": {"type": "string", "enum": list(activity_types)},
            "summary": {
                "type": "string",
                "description": "One or two sentences a person reads on a phone.",
            },
            "observations": {"type": "array", "items": {"type": "string"}},
            "entities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["at_seconds", "entity", "action"],
                    "properties": {
                        "at_seconds": {"type": ["number", "null"]},
                        "entity": {"type": "string"},
                        "action": {"type": "string"},
                    },
                },
            },
            "requires_review": {"type": "boolean"},
        },
    }  # fmt: skip
