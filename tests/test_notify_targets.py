"""Who gets what: plain messages for mail-like targets, the Companion payload for
phones, urgency from a risk level, and words a person reads at a glance."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import re
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import translation as translation_helper
import homeassistant.util.dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.adapters.alert_text import AlertWording
from custom_components.homesec.adapters.notify_targets import (
    NotifyContext,
    PhoneNotifier,
    PhoneUrgency,
    QuickWord,
)
from custom_components.homesec.adapters.persistent_notification import (
    PersistentNotificationNotifier,
)
from custom_components.homesec.const import EVENT_ALERT
from custom_components.homesec.engine.models import (
    Alert,
    AlertDecision,
    AlertReason,
    RiskLevel,
)
from custom_components.homesec.links import LinkSigner, alert_links
from custom_components.homesec.notify_outputs import phone_urgency
from custom_components.homesec.settings import HubSettings

from .doubles.openai_server import OpenAIServer
from .helpers import (
    add_camera,
    set_options,
    setup_onnx_hub,
    setup_openai_hub,
    wait_for,
)

PHONE = "notify.mobile_app_x"
EMAIL = "notify.email"
BASE = "http://homesec.test:8123"
LINK = re.compile(rf"{re.escape(BASE)}(/api/homesec/\S+)")


async def mail_and_phone_hub(
    hass: HomeAssistant, config_dir: Path, model: Path, *, notify_on_motion: bool
) -> tuple[Path, list[ServiceCall], list[ServiceCall]]:
    """A person-detecting hub telling a phone and a mailbox; one folder camera."""
    await hass.config.async_update(internal_url=BASE)
    phone = async_mock_service(hass, "notify", "mobile_app_x")
    email = async_mock_service(hass, "notify", "email")
    entry = await setup_onnx_hub(hass, model)
    await set_options(hass, entry, notify_services=[PHONE, EMAIL])
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, notify_on_motion=notify_on_motion)
    return drop, phone, email


async def test_mail_gets_a_plain_message_and_the_phone_its_payload(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """A mailbox reads who, where, when, why and two links; the phone gets more."""
    # Given a hub that alerts on detections, telling a phone and a mailbox
    drop, phone, email = await mail_and_phone_hub(
        hass, config_dir, red_model, notify_on_motion=True
    )
    alerts = async_capture_events(hass, EVENT_ALERT)

    # When a clip with a person arrives
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(phone) == 2 and len(email) == 1, what="notifications")
    await hass.async_block_till_done()

    # Then the mailbox got one plain message: no phone payload, no quick word
    assert len(email) == 1
    mail = email[0].data
    assert set(mail) == {"title", "message"}
    alert = alerts[0].data
    local = dt_util.as_local(dt_util.parse_datetime(alert["ts"]))
    lines = mail["message"].split("\n")
    assert mail["title"] == "Front door: Person"
    assert lines[0] == f"Person at Front door, {local:%H:%M}."
    assert lines[1] == "Why: this camera alerts on every detection."
    assert lines[2].startswith(f"Clip: {BASE}/api/homesec/clips/{alert['clip_id']}?")
    assert lines[3].startswith(f"Snapshot: {BASE}/api/homesec/snapshots/")
    assert "summary follows" not in mail["message"]

    # And its links open the clip and the snapshot without a login
    anonymous = await hass_client_no_auth()
    clip_link, snapshot_link = LINK.findall(mail["message"])
    clip = await anonymous.get(clip_link)
    assert clip.status == 200
    assert await clip.read() == red_clip.read_bytes()
    snapshot = await anonymous.get(snapshot_link)
    assert snapshot.status == 200
    assert snapshot.content_type == "image/jpeg"

    # And the phone got the quick word, then the alert under the same tag with
    # the snapshot, the clip as video, and the actions
    quick, full = phone[0].data, phone[1].data
    assert quick["message"] == "Person at Front door; the clip follows."
    assert quick["data"]["tag"] == full["data"]["tag"] == alert["clip_id"]
    assert full["message"].startswith("Person at Front door, ")
    assert full["data"]["image"].startswith("/api/homesec/snapshots/")
    assert full["data"]["video"].startswith(f"/api/homesec/clips/{alert['clip_id']}?")
    assert [a["title"] for a in full["data"]["actions"]] == [
        "Open the clip",
        "Snooze 60 min",
    ]
    assert "push" not in full["data"]

    # And the event keeps the user's wording and the machine's reason
    assert alert["notify_reason"] == "this camera alerts on every detection."
    assert alert["reason"] == AlertReason.MOTION_ALERTS_ON
    state = hass.states.get("event.front_door_alert")
    assert state is not None
    assert state.attributes["reason"] == "motion_alerts_on"


async def test_without_an_alert_only_the_phone_hears_and_is_cleared(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    openai_server: OpenAIServer,
) -> None:
    """The quick word and its removal are the Companion app's, never a mailbox's."""
    # Given a summarizing hub (its model rates clips medium, below the alert
    # level) telling a phone and a mailbox, and a camera alerting on summaries
    phone = async_mock_service(hass, "notify", "mobile_app_x")
    email = async_mock_service(hass, "notify", "email")
    entry = await setup_openai_hub(hass, red_model, openai_server.url)
    await set_options(hass, entry, notify_services=[PHONE, EMAIL])
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, notify_on_motion=False)

    # When a clip with a person arrives and no alert follows
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(phone) == 2, what="quick and clear")
    await wait_for(lambda: entry.runtime_data.engine.pipeline.in_flight == 0)
    await hass.async_block_till_done()

    # Then the phone's quick word was removed by the app's command and tag,
    # and the mailbox got nothing at all
    assert phone[0].data["message"] == "Person at Front door; summary follows."
    assert phone[1].data == {
        "message": "clear_notification",
        "data": {"tag": phone[0].data["data"]["tag"]},
    }
    assert email == []


def _alert(risk: RiskLevel | None, *, snapshot: bool = True) -> Alert:
    clip_id = "front_door_20261201_101500"
    return Alert(
        clip_id=clip_id,
        camera_name="front_door",
        storage_uri=None,
        view_url=None,
        snapshot_url=f"/api/homesec/snapshots/{clip_id}" if snapshot else None,
        clip_url=f"/api/homesec/clips/{clip_id}",
        risk_level=risk,
        activity_type="loitering" if risk else None,
        summary="Someone waits by the gate." if risk else None,
        notify_reason="why",
        detected_classes=["person"],
        confidence=0.9,
        ts=dt_util.utcnow(),
        dedupe_key=clip_id,
        upload_failed=False,
        vlm_failed=False,
    )


async def _context(hass: HomeAssistant) -> NotifyContext:
    wording = AlertWording(hass)
    await wording.async_load()
    return NotifyContext(hass, lambda _: "Front door", wording, LinkSigner(b"k" * 32))


@pytest.mark.parametrize(
    ("critical", "expected"),
    [
        (
            False,
            {
                "push": {"interruption-level": "time-sensitive"},
                "ttl": 0,
                "priority": "high",
            },
        ),
        (
            True,
            {
                "push": {
                    "interruption-level": "critical",
                    "sound": {"name": "default", "critical": 1, "volume": 1.0},
                },
                "ttl": 0,
                "priority": "high",
                "channel": "alarm_stream",
            },
        ),
    ],
)
async def test_urgent_from_a_risk_level_only(
    hass: HomeAssistant, critical: bool, expected: dict[str, Any]
) -> None:
    """At or above the chosen risk the phone payload is urgent, below it is not."""
    # Given a phone whose alerts are urgent from high risk on
    calls = async_mock_service(hass, "notify", "mobile_app_x")
    urgency = PhoneUrgency(from_level=RiskLevel.HIGH, critical=critical)
    phone = PhoneNotifier(
        PHONE, await _context(hass), QuickWord(frozenset({"person"})), urgency
    )
    urgent_keys = {"push", "ttl", "priority", "channel"}

    # When alerts of every risk (and one without) go out
    for risk in [*RiskLevel, None]:
        await phone.notify(_alert(risk))

    # Then only high and critical carry the Companion app's urgency keys
    sent = [call.data["data"] for call in calls]
    got = [{k: v for k, v in data.items() if k in urgent_keys} for data in sent]
    assert got == [{}, {}, expected, expected, {}]


def test_urgency_comes_from_the_hub_options() -> None:
    """Never by default; a level and the critical switch from the options."""
    # Given the default settings and settings with both options set
    default = HubSettings()
    chosen = HubSettings(phone_urgent_from="medium", phone_urgent_critical=True)

    # When the phone urgency is made from them
    # Then it is off by default, and follows the options when set
    assert phone_urgency(default) == PhoneUrgency(from_level=None, critical=False)
    assert phone_urgency(chosen) == PhoneUrgency(
        from_level=RiskLevel.MEDIUM, critical=True
    )


async def test_no_snapshot_link_without_a_snapshot(hass: HomeAssistant) -> None:
    """A clip without a snapshot gets no image, no snapshot link, no picture."""
    # Given the outputs of a phone and of persistent notifications
    calls = async_mock_service(hass, "notify", "mobile_app_x")
    context = await _context(hass)
    phone = PhoneNotifier(
        PHONE, context, QuickWord(frozenset({"person"})), PhoneUrgency()
    )
    board = PersistentNotificationNotifier(context)

    # When an alert without a snapshot, then one with, go to both
    without, with_snapshot = _alert(None, snapshot=False), _alert(RiskLevel.LOW)
    await phone.notify(without)
    await board.notify(without)
    shown_without = _board_message(hass, without)
    await phone.notify(with_snapshot)
    await board.notify(with_snapshot)
    shown_with = _board_message(hass, with_snapshot)

    # Then only the one with a snapshot links and shows it
    assert "image" not in calls[0].data["data"]
    assert "/snapshots/" not in shown_without
    assert calls[1].data["data"]["image"].startswith("/api/homesec/snapshots/")
    assert "![Snapshot](/api/homesec/snapshots/front_door_20261201_101500?" in (
        shown_with
    )
    assert "[Open the clip](/api/homesec/clips/" in shown_without


def _board_message(hass: HomeAssistant, alert: Alert) -> str:
    shown = persistent_notification._async_get_or_create_notifications(hass)
    return str(shown[f"homesec_{alert.clip_id}"]["message"])


async def test_the_message_reads_at_a_glance(hass: HomeAssistant) -> None:
    """Camera, local time, what was seen, the summary and why, in English."""
    # Given Home Assistant in Berlin time, and an alert from yesterday and today
    await hass.config.async_set_time_zone("Europe/Berlin")
    context = await _context(hass)
    today = _alert(RiskLevel.HIGH).model_copy(
        update={"detected_classes": ["person", "vehicle", "wheelie_bin"]}
    )
    yesterday = today.model_copy(update={"ts": today.ts - timedelta(days=1)})
    reason = context.wording.reason

    # When the wording describes them and the policy's reasons
    text = context.wording.message(today, "Front door")
    old = context.wording.message(yesterday, "Front door")
    risk_reason = reason(
        _decision(
            AlertReason.RISK_AT_OR_ABOVE, risk_level="high", min_risk_level="medium"
        )
    )
    listed = reason(_decision(AlertReason.ACTIVITY_LISTED, activity_type="delivery"))
    own = reason(_decision(AlertReason.ACTIVITY_LISTED, activity_type="bin_day"))

    # Then the lines read as sentences in the user's time zone
    local = today.ts.astimezone(ZoneInfo("Europe/Berlin"))
    assert text.split("\n") == [
        f"Person, vehicle, wheelie bin at Front door, {local:%H:%M}.",
        "Someone waits by the gate.",
        "Why: why",
        "Risk: high.",
    ]
    day_before = yesterday.ts.astimezone(ZoneInfo("Europe/Berlin"))
    assert old.startswith(
        f"Person, vehicle, wheelie bin at Front door, {day_before:%Y-%m-%d %H:%M}."
    )
    assert risk_reason == ("the risk is high, at or above your alert level (medium).")
    assert listed == (
        "Delivery is one of the activities you always want to hear about."
    )
    assert own.startswith("bin day is one of the activities")


def _decision(code: AlertReason, **params: str) -> AlertDecision:
    return AlertDecision(notify=True, reason="log sentence", code=code, params=params)


async def test_persistent_notification_is_the_fallback(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """Without targets, the alert shows as a notification with picture and link."""
    # Given a person-detecting hub without notification targets
    entry = await setup_onnx_hub(hass, red_model)
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop)
    alerts = async_capture_events(hass, EVENT_ALERT)

    # When a clip with a person arrives
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: bool(alerts), what="the alert")
    await hass.async_block_till_done()

    # Then its notification names camera and label, shows the snapshot inline
    # and links the clip
    clip_id = alerts[0].data["clip_id"]
    shown = persistent_notification._async_get_or_create_notifications(hass)
    notification = shown[f"homesec_{clip_id}"]
    assert notification["title"] == "Front door: Person"
    assert notification["message"].startswith("**Person** at **Front door**, ")
    assert (
        f"![Snapshot](/api/homesec/snapshots/{clip_id}?expires="
        in (notification["message"])
    )
    assert (
        f"[Open the clip](/api/homesec/clips/{clip_id}?expires="
        in (notification["message"])
    )


async def test_phone_alerts_turn_urgent_from_the_options(
    hass: HomeAssistant,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    openai_server: OpenAIServer,
) -> None:
    """Urgency is offered where there is a phone, and applies to its alerts."""
    # Given a summarizing hub (its model rates clips medium) and a phone in
    # Home Assistant
    phone = async_mock_service(hass, "notify", "mobile_app_x")
    entry = await setup_openai_hub(hass, red_model, openai_server.url)
    before = await hass.config_entries.options.async_init(entry.entry_id)
    hass.services.async_remove("notify", "mobile_app_x")
    without_phone = await hass.config_entries.options.async_init(entry.entry_id)
    phone = async_mock_service(hass, "notify", "mobile_app_x")

    # When the options make phone alerts critical from medium risk, and a
    # person clip arrives
    await set_options(
        hass,
        entry,
        notify_services=[PHONE],
        min_risk_level="low",
        phone_urgent_from="medium",
        phone_urgent_critical=True,
    )
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, notify_on_motion=False)
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: len(phone) == 2, what="quick and alert")

    # Then the form offered the fields only with a phone, and the alert (not
    # the quick word) went out critical
    assert {"phone_urgent_from", "phone_urgent_critical"} <= _fields(before)
    assert not {"phone_urgent_from", "phone_urgent_critical"} & _fields(without_phone)
    quick, alert = phone[0].data["data"], phone[1].data["data"]
    assert "push" not in quick
    assert alert["push"]["interruption-level"] == "critical"
    assert alert["channel"] == "alarm_stream"


def _fields(form: Any) -> set[str]:
    return {str(key) for key in form["data_schema"].schema}


GERMAN = {
    "alert_seen": "{seen} bei {camera}, {time} Uhr.",
    "alert_why": "Grund: {reason}",
    "label_person": "Person",
    "reason_motion_alerts_on": "diese Kamera meldet jede Erkennung.",
}
"""A test translation: some of HomeSec's texts in German (the rest English)."""


async def test_messages_follow_home_assistants_language(
    hass: HomeAssistant,
    disable_translations_once: None,
    monkeypatch: pytest.MonkeyPatch,
    config_dir: Path,
    red_model: Path,
    red_clip: Path,
    socket_enabled: None,
) -> None:
    """When Home Assistant speaks German, so do HomeSec's notifications."""
    # Given a German translation of HomeSec, and a hub mailing its alerts
    load = translation_helper._load_translations_files_by_language

    def with_german(files: dict[str, Any]) -> dict[str, Any]:
        loaded = load(files)
        if "homesec" in files.get("de", {}):
            loaded["de"]["homesec"] = {"common": GERMAN}
        return loaded

    monkeypatch.setattr(
        translation_helper, "_load_translations_files_by_language", with_german
    )
    drop, _, email = await mail_and_phone_hub(
        hass, config_dir, red_model, notify_on_motion=True
    )
    alerts = async_capture_events(hass, EVENT_ALERT)

    # When Home Assistant's language becomes German and a person clip arrives
    await hass.config.async_update(language="de")
    await hass.async_block_till_done()
    (drop / "clip.mp4").write_bytes(red_clip.read_bytes())
    await wait_for(lambda: bool(email), what="the mail")

    # Then the mail and the alert's reason are German where translated, and
    # English where not
    lines = str(email[0].data["message"]).split("\n")
    assert lines[0].startswith("Person bei Front door, ")
    assert lines[0].endswith(" Uhr.")
    assert lines[1] == "Grund: diese Kamera meldet jede Erkennung."
    assert lines[2].startswith("Clip: ")
    assert alerts[0].data["notify_reason"] == "diese Kamera meldet jede Erkennung."


async def test_wording_copes_with_what_it_has_no_words_for(hass: HomeAssistant) -> None:
    """Reasons without a text keep their sentence; gaps never break a message."""
    # Given the wording, and Home Assistant without a known URL
    context = await _context(hass)
    wording = context.wording
    unknown = AlertDecision(notify=True, reason="a rule of another kind")
    upload_failed = _alert(None).model_copy(update={"upload_failed": True})

    # When a reason without a code, a text with a placeholder the code does not
    # give, an alert whose upload failed and links for a mail are made
    reason = wording.reason(unknown)
    gap = wording.text("alert_seen", seen="Person")
    message = wording.message(upload_failed, "Front door")
    links = alert_links(hass, context.signer, "front_door_x", snapshot=False,
                        absolute=True)  # fmt: skip

    # Then the sentence stays, the gap shows as itself, the failure is said,
    # and the links are paths (no snapshot link without a snapshot)
    assert reason == "a rule of another kind"
    assert gap.startswith("Person at {camera}, {time}")
    assert message.endswith(
        "The clip is kept on Home Assistant only (its upload failed)."
    )
    assert links.clip.startswith("/api/homesec/clips/front_door_x?expires=")
    assert links.snapshot is None
