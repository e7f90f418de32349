"""Phone notifications: quick at detection, updated in place, cleared, snoozed,
quiet hours."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant, ServiceCall
import homeassistant.util.dt as dt_util
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.camera_settings import CameraSettings
from custom_components.homesec.const import (
    EVENT_ALERT,
    EVENT_DETECTION,
    SUBENTRY_CAMERA,
)

from .doubles.openai_server import OpenAIServer
from .helpers import (
    add_camera,
    set_options,
    setup_onnx_hub,
    setup_openai_hub,
    wait_for,
)

PHONE = "notify.mobile_app_pixel"


async def phone_hub(
    hass: HomeAssistant, config_dir: Path, model: Path, **camera: Any
) -> tuple[ConfigEntry, Path, list[ServiceCall]]:
    """A person-detecting hub notifying a phone, with one folder camera."""
    calls = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await setup_onnx_hub(hass, model)
    await set_options(hass, entry, notify_services=[PHONE])
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, **camera)
    return entry, drop, calls


async def settle(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Wait until the pipeline is idle and Home Assistant has nothing left to do."""
    pipeline = entry.runtime_data.engine.pipeline
    await wait_for(lambda: pipeline.in_flight == 0, what="the pipeline idle")
    await hass.async_block_till_done()


def messages(calls: list[ServiceCall]) -> list[str]:
    """What each notify call said, in order."""
    return [str(call.data["message"]) for call in calls]


async def test_quick_notification_is_replaced_by_the_alert(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """The phone hears of the person at once, then the same tag gets the alert."""
    # Given a camera that alerts on detections and notifies a phone
    entry, drop, calls = await phone_hub(hass, config_dir, red_model)

    # When a clip with a person arrives
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(calls) == 2, what="two notifications")
    await settle(hass, entry)

    # Then exactly two went out: first the quick one, then the alert, both
    # under the clip's tag
    assert len(calls) == 2
    quick, alert = calls[0].data, calls[1].data
    assert quick["message"] == "Person at Front door; the clip follows."
    assert alert["message"].startswith("Person at Front door, ")
    assert quick["data"]["tag"] == alert["data"]["tag"]
    assert alert["data"]["tag"].startswith("front_door_")
    actions = alert["data"]["actions"]
    assert [a["title"] for a in actions] == ["Open the clip", "Snooze 60 min"]
    assert actions[1]["action"] == "HOMESEC_SNOOZE_front_door"

    # And the snapshot and the clip open without a login (signed links)
    anonymous = await hass_client_no_auth()
    image = await anonymous.get(alert["data"]["image"])
    assert image.status == 200
    assert image.content_type == "image/jpeg"
    assert urlsplit(actions[0]["uri"]).path.startswith("/api/homesec/clips/")
    assert (await anonymous.get(actions[0]["uri"])).status == 200


async def test_quick_notification_is_cleared_without_an_alert(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    openai_server: OpenAIServer,
) -> None:
    """A person the summary model rates below the alert level leaves nothing."""
    # Given a hub that summarizes people (its model rates clips medium) and
    # alerts from high risk, and a camera that only alerts on summaries
    calls = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await setup_openai_hub(
        hass, red_model, openai_server.url, {"notify_services": [PHONE]}
    )
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, notify_on_motion=False)

    # When a clip with a person arrives
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(calls) == 2, what="quick and clear")
    await settle(hass, entry)

    # Then the quick notification went out and was removed again by its tag,
    # and nothing else was sent
    assert messages(calls) == [
        "Person at Front door; summary follows.",
        "clear_notification",
    ]
    assert calls[1].data == {
        "message": "clear_notification",
        "data": {"tag": calls[0].data["data"]["tag"]},
    }


async def test_no_quick_notification_when_no_alert_can_follow(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """Without a summary model and without Alert on any detection, no buzz."""
    # Given a hub without a summary model, and a camera that does not alert on
    # any detection
    entry, drop, calls = await phone_hub(
        hass, config_dir, red_model, notify_on_motion=False
    )
    detections = async_capture_events(hass, EVENT_DETECTION)

    # When a clip with a person arrives
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(detections) == 1, what="the detection event")
    await settle(hass, entry)

    # Then the person was detected, but the phone got nothing: no word that
    # would promise an alert and then vanish
    assert detections[0].data["detected_classes"] == ["person"]
    assert calls == []


async def test_snooze_action_holds_notifications_back(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """Tapping Snooze stops notifications for an hour; events still fire."""
    # Given a camera notifying a phone, whose Snooze action was tapped
    entry, drop, calls = await phone_hub(hass, config_dir, red_model)
    alerts = async_capture_events(hass, EVENT_ALERT)
    tapped_after = dt_util.now()
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": "HOMESEC_SNOOZE_front_door"}
    )
    await hass.async_block_till_done()
    tapped_before = dt_util.now()

    # When a person clip arrives
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: bool(alerts), what="the alert event")
    await settle(hass, entry)

    # Then no notification went out, and the snooze ends 60 min after the tap
    assert calls == []
    until = entry.runtime_data.controls.snoozed_until("front_door")
    assert until is not None
    hour = timedelta(minutes=60)
    assert tapped_after + hour <= until <= tapped_before + hour


async def test_quiet_hours_hold_notifications_back(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """A camera in its quiet hours sends no notification; events still fire."""
    # Given a hub notifying a phone
    calls = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await setup_onnx_hub(hass, red_model)
    await set_options(hass, entry, notify_services=[PHONE])
    drop = config_dir / "drop"
    drop.mkdir()
    now = dt_util.now()
    quiet = {
        "quiet_start": (now - timedelta(hours=1)).strftime("%H:%M:%S"),
        "quiet_end": (now + timedelta(hours=1)).strftime("%H:%M:%S"),
    }

    # When a camera is added with only a start, then with both ends
    flow = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    common = {"name": "Front door", "source_type": "folder", "notify_on_motion": "on"}
    half = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], common | {"quiet_start": quiet["quiet_start"]}
    )
    result = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], common | quiet
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"watch_folder": str(drop), "settle_seconds": 1}
    )
    await hass.async_block_till_done()
    alerts = async_capture_events(hass, EVENT_ALERT)
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: bool(alerts), what="the alert event")
    await settle(hass, entry)

    # Then a half-set range is refused, and in quiet hours nothing was sent
    assert half["errors"] == {"quiet_end": "quiet_hours_incomplete"}
    assert calls == []


def test_quiet_hours_may_span_midnight() -> None:
    """22:00-06:30 covers late evening and early morning, not noon."""

    # Given quiet hours over midnight, and a daytime range
    def camera(**hours: str) -> CameraSettings:
        return CameraSettings(
            subentry_id="s", camera_id="c", title="C", source_type="folder", **hours
        )

    night = camera(quiet_start="22:00:00", quiet_end="06:30:00")
    day = camera(quiet_start="09:00:00", quiet_end="17:00:00")

    # When times are checked, then only those inside count
    assert night.in_quiet_hours(time(23, 0))
    assert night.in_quiet_hours(time(5, 0))
    assert not night.in_quiet_hours(time(12, 0))
    assert day.in_quiet_hours(time(12, 0))
    assert not day.in_quiet_hours(time(18, 0))
    assert not camera().in_quiet_hours(time(12, 0))


async def test_summary_updates_the_quick_notification(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    openai_server: OpenAIServer,
) -> None:
    """Before the summary the phone knows a person is there; after, what happened."""
    # Given a hub that summarizes people and notifies a phone
    calls = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await setup_openai_hub(
        hass,
        red_model,
        openai_server.url,
        {"notify_services": [PHONE], "min_risk_level": "low"},
    )
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, notify_on_motion=False)

    # When a clip with a person arrives
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(calls) == 2, what="quick and summary")
    await settle(hass, entry)

    # Then exactly two went out: the first said a person is there, the second
    # (same tag) the summary
    assert len(calls) == 2
    before, after = calls[0].data, calls[1].data
    assert before["message"] == "Person at Front door; summary follows."
    assert "A courier" in after["message"]
    assert "the risk is medium, at or above your alert level (low)" in after["message"]
    assert before["data"]["tag"] == after["data"]["tag"]
    assert before["data"]["image"].startswith("/api/homesec/snapshots/")
    assert after["data"]["image"].startswith("/api/homesec/snapshots/")
    assert [a["title"] for a in after["data"]["actions"]] == [
        "Open the clip",
        "Snooze 60 min",
    ]
