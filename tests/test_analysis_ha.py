"""Analysis in Home Assistant: the OpenAI-compatible flow and summaries in alerts,
an AI Task entity receiving the frames, and the daily budget."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from homeassistant.components import ai_task, conversation, image, media_source
from homeassistant.components.ai_task.const import DATA_COMPONENT as AI_TASK_COMPONENT
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.entity_component import async_update_entity
from homeassistant.setup import async_setup_component
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.homesec.const import (
    DETECTION_HOLD_SECONDS,
    DOMAIN,
    EVENT_ALERT,
)

from .doubles.openai_server import OpenAIServer
from .helpers import (
    add_camera,
    finish_hub_flow,
    setup_hub,
    start_hub_flow,
    wait_for,
)

RULES = {"detect_classes": ["person"], "min_confidence": 0.5, "min_hits": 1,
         "min_box_h_ratio": 0.0}  # fmt: skip
COST = {"max_frames": 3, "daily_calls": 200, "daily_tokens": 0, "cooldown_minutes": 0}


async def _to_analyzer(hass: HomeAssistant, model: Path) -> dict[str, Any]:
    result = await start_hub_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"detector": "onnx"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"model_path": str(model)}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], RULES)
    assert result["step_id"] == "analyzer"
    return dict(result)


async def _drop(
    hass: HomeAssistant, entry: ConfigEntry, folder: Path, clip: Path, count: int = 1
) -> list[Any]:
    """Add a camera on ``folder`` and drop ``clip`` there ``count`` times."""
    folder.mkdir()
    # (the default policy alerts from "high" risk; this camera alerts on detections)
    await add_camera(hass, entry, folder, settle_seconds=1, notify_on_motion=True)
    subentry = next(iter(entry.subentries.values()))
    hass.config_entries.async_update_subentry(
        entry,
        subentry,
        data={**subentry.data, "prompt_context": "Parcels are delivered here."},
    )
    await hass.async_block_till_done()
    alerts = async_capture_events(hass, EVENT_ALERT)
    for index in range(1, count + 1):
        (folder / f"clip{index}.mp4").write_bytes(clip.read_bytes())
        await wait_for(
            lambda expected=index: len(alerts) == expected, what=f"alert {index}"
        )
    hub = hass.config_entries.async_get_entry(entry.entry_id).runtime_data
    await wait_for(lambda: hub.engine.pipeline.in_flight == 0, what="idle")
    return alerts


async def test_openai_flow_and_summary_in_the_alert(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    openai_server: OpenAIServer,
) -> None:
    """The flow checks the server; a person clip alerts with the model's summary."""
    # Given the analyzer step, choosing the OpenAI-compatible server
    result = await _to_analyzer(hass, red_model)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"analyzer": "openai"}
    )
    base = {"openai_base_url": openai_server.url, "openai_model": "gpt-4o-mini"}

    # When a wrong key, an unreachable URL, then the right settings are given
    wrong = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**base, "openai_api_key": "sk-wrong", **COST}
    )
    down = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**base, "openai_base_url": "http://127.0.0.1:9/v1", **COST},
    )
    done = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**base, "openai_api_key": "sk-test", **COST,
         "activity_types": ["delivery", "visitor"], "base_prompt": "Be brief.",
         "token_parameter": "max_tokens"},
    )  # fmt: skip
    done = await finish_hub_flow(hass, done)

    # Then the errors name the field and the hub is created
    assert wrong["errors"] == {"openai_api_key": "invalid_auth"}
    assert down["errors"] == {"openai_base_url": "cannot_connect"}
    assert done["type"] is FlowResultType.CREATE_ENTRY

    # When a clip with a person arrives at a camera with a prompt context
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    alerts = await _drop(hass, entry, config_dir / "drop", red_clip)

    # Then the alert carries the summary, and the model saw 3 frames and context
    payload = alerts[0].data
    assert payload["summary"].startswith("A courier")
    assert payload["risk_level"] == "medium"
    assert payload["activity_type"] == "delivery"
    assert payload["vlm_failed"] is False
    request = openai_server.requests[0]
    parts = request["messages"][0]["content"]
    assert sum(part["type"] == "image_url" for part in parts) == 3
    assert parts[0]["text"].startswith("Be brief.")
    assert "Parcels are delivered here." in parts[0]["text"]
    schema = request["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["activity_type"]["enum"] == [
        "delivery",
        "visitor",
        "other",
    ]
    assert request["max_tokens"] == 700
    hub = entry.runtime_data
    assert (hub.engine.budget.calls, hub.engine.budget.tokens) == (1, 1280)

    # Then the camera's entities show the clip
    def state(entity_id: str) -> str:
        return hass.states.get(entity_id).state

    assert state("binary_sensor.front_door_person") == "on"
    assert state("binary_sensor.front_door_vehicle") == "off"
    assert state("binary_sensor.front_door_alert") == "on"
    assert state("sensor.front_door_last_summary").startswith("A courier")
    assert state("sensor.front_door_last_risk_level") == "medium"
    assert state("sensor.front_door_last_activity") == "delivery"
    assert state("sensor.front_door_clips_today") == "1"
    clip_ts = dt_util.parse_datetime(payload["ts"])
    assert clip_ts is not None
    last_clip = dt_util.parse_datetime(state("sensor.front_door_last_clip"))
    assert last_clip == clip_ts.replace(microsecond=0)
    alert_event = hass.states.get("event.front_door_alert")
    assert alert_event.attributes["event_type"] == "delivery"
    assert alert_event.attributes["risk_level"] == "medium"
    snapshot = await image.async_get_image(hass, "image.front_door_snapshot")
    assert snapshot.content[:3] == b"\xff\xd8\xff"
    # Then the hub's entities show its health and usage
    await async_update_entity(hass, "sensor.homesec_status")
    await async_update_entity(hass, "sensor.homesec_analyzer_tokens_today")
    assert state("sensor.homesec_status") == "healthy"
    assert hass.states.get("sensor.homesec_status").attributes["front_door"] is True
    assert state("sensor.homesec_analyzer_tokens_today") == "1280"
    assert state("binary_sensor.homesec_state_store") == "on"
    assert state("binary_sensor.homesec_storage") == "on"

    # When the hold time passes, then the person and alert sensors turn off
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=DETECTION_HOLD_SECONDS + 1)
    )
    await hass.async_block_till_done()
    assert state("binary_sensor.front_door_person") == "off"
    assert state("binary_sensor.front_door_alert") == "off"


async def test_budget_reached_alerts_without_summary(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    openai_server: OpenAIServer,
) -> None:
    """Past the daily call budget, the alert goes out without a summary, saying why."""
    # Given a hub allowed one model call a day
    result = await _to_analyzer(hass, red_model)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"analyzer": "openai"}
    )
    settings = {"openai_base_url": openai_server.url, "openai_api_key": "sk-test"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], settings | COST | {"daily_calls": 1}
    )
    await finish_hub_flow(hass, result)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    # (the same clip twice: a person standing still, unless parked objects
    # are not tracked)
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "stationary_forget_minutes": 0}
    )
    await hass.async_block_till_done()

    # When two person clips arrive
    alerts = await _drop(hass, entry, config_dir / "drop", red_clip, count=2)

    # Then the first has a summary; the second none, and says why (in words
    # and as a code)
    assert alerts[0].data["summary"] is not None
    second = alerts[1].data
    assert second["summary"] is None
    assert "today's budget for summaries is used up" in second["notify_reason"]
    assert second["reason"] == "analysis_unavailable"
    assert second["reason_params"] == {"cause": "budget"}
    assert len(openai_server.requests) == 1


class RecordingAITaskEntity(ai_task.AITaskEntity):
    """An AI Task entity that records the attachments it was given."""

    _attr_name = "Test AI Task"
    _attr_unique_id = "test_ai_task"
    _attr_supported_features = (
        ai_task.AITaskEntityFeature.GENERATE_DATA
        | ai_task.AITaskEntityFeature.SUPPORT_ATTACHMENTS
    )

    def __init__(self) -> None:
        """Start with nothing received."""
        self.tasks: list[ai_task.GenDataTask] = []
        self.attachment_bytes: list[bytes] = []

    async def _async_generate_data(
        self, task: ai_task.GenDataTask, chat_log: conversation.ChatLog
    ) -> ai_task.GenDataTaskResult:
        """Read the attachments while they exist; answer a structured result."""
        self.tasks.append(task)
        for attachment in task.attachments or []:
            self.attachment_bytes.append(
                await self.hass.async_add_executor_job(attachment.path.read_bytes)
            )
        return ai_task.GenDataTaskResult(
            conversation_id=chat_log.conversation_id,
            data={
                "risk_level": "low",
                "activity_type": "visitor",
                "summary": "Someone in red waits at the door.",
                "observations": ["red clothing"],
                "requires_review": False,
            },
        )


async def test_ai_task_analyzer_sends_frames_as_attachments(
    hass: HomeAssistant, config_dir: Path, red_model: Path, red_clip: Path
) -> None:
    """An AI Task entity gets the selected frames and its answer is the summary."""
    # Given an AI Task entity registered in Home Assistant
    entity = RecordingAITaskEntity()
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "ai_task", {})
    await hass.data[AI_TASK_COMPONENT].async_add_entities([entity])
    await hass.async_block_till_done()

    # And a hub that analyses with it
    result = await _to_analyzer(hass, red_model)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"analyzer": "ai_task"}
    )
    assert result["step_id"] == "ai_task"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ai_task_entity": entity.entity_id, **COST}
    )
    await finish_hub_flow(hass, result)
    entry = hass.config_entries.async_entries(DOMAIN)[0]

    # When a person clip arrives
    alerts = await _drop(hass, entry, config_dir / "drop", red_clip)

    # Then the entity got 3 JPEG attachments from HomeSec's media source
    (task,) = entity.tasks
    assert task.structure is not None
    assert [a.mime_type for a in task.attachments or []] == ["image/jpeg"] * 3
    assert all(
        a.media_content_id.startswith("media-source://homesec/frames/")
        for a in task.attachments or []
    )
    assert all(data[:3] == b"\xff\xd8\xff" for data in entity.attachment_bytes)
    assert "Parcels are delivered here." in task.instructions
    # Then its answer is the alert's summary, and the frames were removed after
    assert alerts[0].data["summary"] == "Someone in red waits at the door."
    assert alerts[0].data["activity_type"] == "visitor"
    assert not any((config_dir / "homesec" / "frames").iterdir())


async def test_media_source_serves_only_frames(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Frame ids resolve to files under homesec/frames; nothing else resolves."""
    # Given a hub, the media source and one frame on disk
    assert await async_setup_component(hass, "media_source", {})
    await setup_hub(hass)
    frame = config_dir / "homesec" / "frames" / "cam_20261124_101500" / "0.jpg"
    frame.parent.mkdir(parents=True)
    frame.write_bytes(b"\xff\xd8\xff")

    # When a frame and hostile ids are resolved
    media = await media_source.async_resolve_media(
        hass, "media-source://homesec/frames/cam_20261124_101500/0.jpg", None
    )

    # Then the frame resolves to its file and the others are refused
    assert media.path == frame
    for bad in (
        "frames/../../secrets.yaml",
        "frames/cam/../../x/0.jpg",
        "frames/cam_20261124_101500/1.jpg",
        "clips/cam/0.mp4",
    ):
        with pytest.raises(media_source.Unresolvable):
            await media_source.async_resolve_media(
                hass, f"media-source://homesec/{bad}", None
            )
