"""A detector outage loses no clip: clips wait, then are detected and alerted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.homesec.const import DOMAIN, EVENT_ALERT
from custom_components.homesec.engine.models import ClipStatus, Stage, StageStatus
from custom_components.homesec.system_health import system_health_info

from .doubles.detection_server import DetectionServer
from .helpers import add_camera, finish_hub_flow, start_hub_flow, wait_for

RULES = {"detect_classes": ["person"], "min_confidence": 0.5, "min_hits": 1,
         "min_box_h_ratio": 0.0}  # fmt: skip


async def _remote_detector_hub(
    hass: HomeAssistant, detection_server: DetectionServer
) -> ConfigEntry:
    """A hub set up in the UI with the remote detector and no analyzer."""
    result = await start_hub_flow(hass)
    for step in (
        {"detector": "remote"},
        {"remote_url": detection_server.url, **RULES},
        {"analyzer": "none"},
    ):
        result = dict(
            await hass.config_entries.flow.async_configure(result["flow_id"], step)
        )
    entry: ConfigEntry = (await finish_hub_flow(hass, result))["result"]
    return entry


async def test_clips_wait_for_the_detector_and_alert_once_it_is_back(
    hass: HomeAssistant,
    config_dir: Path,
    detection_server: DetectionServer,
    red_clip: Path,
) -> None:
    """Server errors are retried, the clip waits unfinished, then alerts once."""
    # Given a hub on the remote detector and a camera alerting on people
    entry = await _remote_detector_hub(hass, detection_server)
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, settle_seconds=1)
    hub = entry.runtime_data
    pipeline = hub.engine.pipeline
    alerts = async_capture_events(hass, EVENT_ALERT)

    # When the detection server fails (HTTP 500) as a person clip arrives
    detection_server.mode = "http500"
    await hass.async_add_executor_job(
        (drop / "clip.mp4").write_bytes, red_clip.read_bytes()
    )
    await wait_for(lambda: not hub.health.detector_available, what="the outage")
    await wait_for(lambda: pipeline.in_flight == 0, what="idle", timeout=60)
    entries = await hass.async_add_executor_job(hub.engine.spool.entries)
    clip_id = entries[0].clip_id
    waiting = await hub.engine.repository.get(clip_id)

    # Then it was tried three times, kept unfinished, and the hub says so
    assert waiting is not None
    assert waiting.status is ClipStatus.PROCESSING
    assert waiting.stages[Stage.DETECT].status is StageStatus.FAILED
    assert waiting.stages[Stage.DETECT].attempts == 3
    assert alerts == []
    assert hub.health.health().checks["detector"] is False
    assert hass.states.get("sensor.homesec_status").state == "degraded"
    assert (await system_health_info(hass))["detector"] == "remote (down)"

    # When the outage lasts ten minutes
    start = dt_util.utcnow()
    hub.health.check(start)
    hub.health.check(start + timedelta(minutes=10, seconds=1))
    issue_id = f"detector_unavailable_{entry.entry_id}"

    # Then a repair issue explains it in words (not "RemoteDetectorUnavailable")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"error": "the server reported an error"}

    # When the server works again and the next probe comes
    detection_server.mode = "ok"
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=6))
    await wait_for(lambda: bool(alerts), what="the alert", timeout=60)
    await wait_for(lambda: pipeline.in_flight == 0, what="idle again")
    hub.health.check(dt_util.utcnow())
    await hass.async_block_till_done()

    # Then the waiting clip was detected and alerted once, and all is well again
    assert [alert.data["clip_id"] for alert in alerts] == [clip_id]
    assert alerts[0].data["detected_classes"] == ["person"]
    done = await hub.engine.repository.get(clip_id)
    assert done is not None
    assert done.status is ClipStatus.DONE
    assert hub.health.detector_available
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert hass.states.get("sensor.homesec_status").state == "healthy"


async def test_analyze_clip_says_when_the_detector_cannot_check_the_clip(
    hass: HomeAssistant,
    config_dir: Path,
    detection_server: DetectionServer,
    red_clip: Path,
) -> None:
    """The action answers a translated error, not a traceback, while it is down."""
    # Given a hub on the remote detector, whose server fails every request
    await _remote_detector_hub(hass, detection_server)
    clip = config_dir / "clip.mp4"
    await hass.async_add_executor_job(clip.write_bytes, red_clip.read_bytes())
    detection_server.mode = "http500"

    # When the user analyzes a clip
    with pytest.raises(HomeAssistantError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "analyze_clip",
            {"file": str(clip)},
            blocking=True,
            return_response=True,
        )

    # Then the error says the detector could not check it, and why, in words
    assert caught.value.translation_key == "detector_failed"
    assert not isinstance(caught.value, ServiceValidationError)  # not a mistake
    assert str(caught.value) == (
        "The detector could not check this clip: the server reported an error. "
        "Try again when the detector answers"
    )
