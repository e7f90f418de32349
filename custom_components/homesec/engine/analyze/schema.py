"""The structured output asked of the model, and its validation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..models import AnalysisResult, RiskLevel

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


class TimelineEntry(BaseModel):
    """One thing seen in the clip."""

    model_config = ConfigDict(extra="forbid")

    at_seconds: float | None
    entity: str
    action: str


class ModelOutput(BaseModel):
    """What the model must answer (validated before use)."""

    model_config = ConfigDict(extra="forbid")

    risk_level: RiskLevel
    activity_type: str
    summary: str = Field(min_length=1, max_length=600)
    observations: list[str]
    entities: list[TimelineEntry]
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
            summary=self.summary.strip(),
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
