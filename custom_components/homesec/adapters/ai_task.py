"""Home Assistant AI Task as an analyzer.

Any AI Task entity (Gemini, OpenAI, Anthropic, Ollama, ...) summarizes the
selected frames, given to it as attachments.
"""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any

from homeassistant.components import ai_task
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
)
import probatio
from pydantic import BaseModel, ConfigDict, ValidationError

from ..engine.analyze.frame_selection import FrameSelection, select_jpegs
from ..engine.analyze.openai import CameraContext
from ..engine.analyze.prompt import BASE_PROMPT, instructions
from ..engine.analyze.schema import (
    DEFAULT_ACTIVITY_TYPES,
    Observations,
    Summary,
    first_problem,
)
from ..engine.errors import AnalyzerError
from ..engine.interfaces import Analyzer
from ..engine.models import AnalysisResult, Clip, FilterResult, RiskLevel


class AITaskAnswer(BaseModel):
    """What the AI Task entity must return."""

    model_config = ConfigDict(extra="ignore")

    risk_level: RiskLevel
    activity_type: str
    summary: Summary
    observations: Observations = []
    requires_review: bool = False


def structure(activity_types: tuple[str, ...]) -> probatio.Schema:
    """The AI Task structure of the analysis."""
    return probatio.Schema(
        {
            probatio.Required("risk_level"): SelectSelector(
                SelectSelectorConfig(options=[r.value for r in RiskLevel])
            ),
            probatio.Required("activity_type"): SelectSelector(
                SelectSelectorConfig(options=list(activity_types))
            ),
            probatio.Required("summary"): TextSelector(),
            probatio.Required("observations"): TextSelector(
                TextSelectorConfig(multiple=True)
            ),
            probatio.Required("requires_review"): BooleanSelector(),
        }
    )


def _write_frames(folder: Path, jpegs: list[tuple[float, bytes]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, (_, jpeg) in enumerate(jpegs):
        (folder / f"{index}.jpg").write_bytes(jpeg)


class AITaskAnalyzer(Analyzer):
    """Generates the analysis with an AI Task entity, frames as attachments."""

    def __init__(
        self,
        hass: HomeAssistant,
        entity_id: str,
        frames_root: Path,
        camera_context: CameraContext,
        *,
        frames: FrameSelection | None = None,
        activity_types: tuple[str, ...] = DEFAULT_ACTIVITY_TYPES,
        base_prompt: str = BASE_PROMPT,
    ) -> None:
        """Use ``entity_id``; frames are written under ``frames_root`` meanwhile."""
        self._hass = hass
        self._entity_id = entity_id
        self._root = frames_root
        self._camera = camera_context
        self._frames = frames or FrameSelection()
        self._activity_types = activity_types
        self._base_prompt = base_prompt

    async def analyze(self, clip: Clip, detections: FilterResult) -> AnalysisResult:
        """Select frames, attach them, and validate the entity's answer."""
        run = self._hass.async_add_executor_job
        jpegs = await run(select_jpegs, clip.local_path, detections, self._frames)
        folder = self._root / clip.clip_id
        await run(_write_frames, folder, jpegs)
        title, context = self._camera(clip.camera_name)
        try:
            result = await ai_task.async_generate_data(
                self._hass,
                task_name=f"HomeSec {clip.clip_id}",
                entity_id=self._entity_id,
                instructions=instructions(
                    title, context, detections, self._activity_types, self._base_prompt
                ),
                structure=structure(self._activity_types),
                attachments=[
                    {
                        "media_content_id": (
                            f"media-source://homesec/frames/{clip.clip_id}/{n}.jpg"
                        ),
                        "media_content_type": "image/jpeg",
                    }
                    for n in range(len(jpegs))
                ],
            )
        except HomeAssistantError as err:
            raise AnalyzerError(f"the AI Task failed: {err}") from err
        finally:
            await run(shutil.rmtree, folder, True)
        return parse_answer(result.data, self._activity_types)


def parse_answer(data: Any, activity_types: tuple[str, ...]) -> AnalysisResult:
    """The analysis in an AI Task answer; AnalyzerError if unusable."""
    try:
        answer = AITaskAnswer.model_validate(data)
    except ValidationError as err:
        raise AnalyzerError(
            f"the AI Task did not return the requested data ({first_problem(err)})"
        ) from err
    return AnalysisResult(
        risk_level=answer.risk_level,
        activity_type=(
            answer.activity_type if answer.activity_type in activity_types else "other"
        ),
        summary=answer.summary,
        observations=answer.observations,
        requires_review=answer.requires_review,
    )
