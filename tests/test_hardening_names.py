"""Folders and files HomeSec creates are named by ids, never by a user's names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from homeassistant.components.ai_task.const import DATA_COMPONENT as AI_TASK_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.spool import Spool
from custom_components.homesec.engine.storage.local import LocalStorage

from .helpers import finish_hub_flow
from .pipeline_parts import run_blocking
from .test_analysis_ha import COST, RecordingAITaskEntity, _to_analyzer

HOSTILE_FILE_NAMES = [
    pytest.param("..mp4", id="stem is ."),
    pytest.param("...mp4", id="stem is .."),
    pytest.param("my clip (1).mp4", id="spaces and brackets"),
    pytest.param(".hidden.mp4", id="hidden"),
    pytest.param("caméra été.mp4", id="non-ASCII"),
]


@pytest.mark.parametrize("name", HOSTILE_FILE_NAMES)
async def test_analysing_a_file_uses_an_id_for_its_frames(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    name: str,
) -> None:
    """Whatever the file is called, its frames live in a folder of their own."""
    # Given a hub analysing with an AI Task entity
    entity = RecordingAITaskEntity()
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "ai_task", {})
    assert await async_setup_component(hass, "media_source", {})
    await hass.data[AI_TASK_COMPONENT].async_add_entities([entity])
    result = await _to_analyzer(hass, red_model)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"analyzer": "ai_task"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"ai_task_entity": entity.entity_id, **COST}
    )
    await finish_hub_flow(hass, result)
    # And the frames of another clip being analysed
    other = config_dir / "homesec" / "frames" / "porch_20261124_120000" / "0.jpg"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"\xff\xd8\xff")
    # And a clip file with a hostile name
    clip = config_dir / name
    clip.write_bytes(red_clip.read_bytes())

    # When the file is analysed through the action
    answer = await hass.services.async_call(
        DOMAIN,
        "analyze_clip",
        {"file": str(clip)},
        blocking=True,
        return_response=True,
    )

    # Then the frames were found under an id, the other clip's frames are
    # untouched, and nothing is left behind
    assert answer is not None
    assert answer["analysis_error"] is None
    assert answer["analysis"]["summary"] == "Someone in red waits at the door."
    assert entity.attachment_bytes
    assert other.read_bytes() == b"\xff\xd8\xff"
    frames = config_dir / "homesec" / "frames"
    assert [p.name for p in frames.iterdir()] == ["porch_20261124_120000"]


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "..", "x\\y"])
def test_the_spool_and_the_clip_store_refuse_names_that_are_not_ids(
    tmp_path: Path, name: str
) -> None:
    """A camera or clip named like a path never names a folder."""
    # Given the spool and local storage
    spool = Spool(tmp_path / "spool")
    storage = LocalStorage(tmp_path / "store", run_blocking)
    clip = Clip(
        clip_id=name or "x",
        camera_name=name,
        local_path=tmp_path / "spool" / "porch" / "porch_20261124_120000.mp4",
        start_ts=datetime.now(UTC),
        source_type="folder",
    )

    # When a folder would be named after it
    # Then it is refused
    with pytest.raises(ValueError, match="not an id"):
        spool.camera_dir(name)
    with pytest.raises(ValueError, match="not an id"):
        storage.path_for(clip)
