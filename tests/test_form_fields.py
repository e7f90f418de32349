"""Forms show only what applies to this hub, in the user's words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from custom_components.homesec.const import SUBENTRY_CAMERA
from custom_components.homesec.engine.analyze.schema import DEFAULT_ACTIVITY_TYPES

from .helpers import add_camera, finish_hub_flow, setup_hub, start_hub_flow
from .red_person_model import build as build_red_person_model
from .servers import free_port

INTEGRATION = Path(__file__).parents[1] / "custom_components" / "homesec"
SUMMARY_FIELDS = {"trigger_classes", "min_risk_level", "notify_on_activity_types"}
MQTT_FIELDS = {"mqtt_topic", "mqtt_qos", "mqtt_retain"}
MODEL_FIELDS = {"detect_classes", "min_confidence", "min_box_h_ratio", "min_hits"}


def fields(result: Any) -> set[str]:
    """The names of a form's fields."""
    return {str(key) for key in result["data_schema"].schema}


def selector_of(result: Any, name: str) -> dict[str, Any]:
    """The config of a form field's selector."""
    for key, selector in result["data_schema"].schema.items():
        if str(key) == name:
            config: dict[str, Any] = selector.config
            return config
    raise AssertionError(f"no field {name}")


async def alerts_step(hass: HomeAssistant, analyzer: str) -> dict[str, Any]:
    """A new motion-only hub's flow at its alerts step, with this analyzer."""
    result = await start_hub_flow(hass)
    steps: list[dict[str, Any]] = [{"detector": "motion"}, {"analyzer": analyzer}]
    if analyzer == "ai_task":
        steps.append({"ai_task_entity": "ai_task.describer"})
    for step in steps:
        result = dict(
            await hass.config_entries.flow.async_configure(result["flow_id"], step)
        )
    assert result["step_id"] == "alerts"
    return result


async def camera_steps(
    hass: HomeAssistant, entry: ConfigEntry
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new camera's first step, and its detection step once that is asked for."""
    first = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    detection = await hass.config_entries.subentries.async_configure(
        first["flow_id"],
        {"name": "Gate", "source_type": "folder", "tune_detection": True},
    )
    assert detection["step_id"] == "detection"
    return dict(first), dict(detection)


async def test_without_a_summary_model_or_mqtt_no_fields_for_them(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """No summary model: no summary rules; no MQTT set up: no MQTT fields."""
    # Given a new hub without a summary model, and no MQTT set up
    # When its flow comes to the alerts step
    result = await alerts_step(hass, "none")

    # Then it asks about neither
    assert not fields(result) & (SUMMARY_FIELDS | MQTT_FIELDS)
    assert {"notify_services", "notify_on_motion", "retention_max_gb"} <= fields(result)

    # When the hub is created and its options opened
    entry = (await finish_hub_flow(hass, result))["result"]
    options = await hass.config_entries.options.async_init(entry.entry_id)

    # Then the options do not show them either, nor detection rules (motion)
    assert not fields(options) & (SUMMARY_FIELDS | MQTT_FIELDS | MODEL_FIELDS)

    # When a camera is added
    first, detection = await camera_steps(hass, entry)

    # Then it asks for no summary setting, and tunes no model or activity
    assert not fields(first) & {"min_risk_override", "prompt_context"}
    assert fields(detection) == {"notify_entities", "notify_services"}


async def test_with_a_summary_model_and_mqtt_their_fields_are_shown(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A summary model and MQTT bring their fields, activities translated."""
    # Given MQTT set up in Home Assistant
    MockConfigEntry(domain="mqtt", data={"broker": "127.0.0.1"}).add_to_hass(hass)

    # When a new hub summarized by an AI Task comes to the alerts step
    result = await alerts_step(hass, "ai_task")

    # Then it asks about summaries and MQTT; activities are translated options
    assert fields(result) >= SUMMARY_FIELDS | MQTT_FIELDS
    activities = selector_of(result, "notify_on_activity_types")
    assert activities["translation_key"] == "activity_type"
    assert activities["options"] == [*DEFAULT_ACTIVITY_TYPES]
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    texts = strings["selector"]["activity_type"]["options"]
    assert set(DEFAULT_ACTIVITY_TYPES) <= set(texts)
    assert texts["break_in_attempt"] == "Break-in attempt"

    # When the hub is created, and a camera added
    entry = (await finish_hub_flow(hass, result))["result"]
    options = await hass.config_entries.options.async_init(entry.entry_id)
    first, detection = await camera_steps(hass, entry)

    # Then the options and the camera ask about them too
    assert fields(options) >= SUMMARY_FIELDS | MQTT_FIELDS
    assert {"min_risk_override", "prompt_context"} <= fields(first)
    assert "notify_on_activity_types" in fields(detection)
    camera_activities = selector_of(detection, "notify_on_activity_types")
    assert camera_activities["translation_key"] == "activity_type"


async def test_options_not_shown_keep_their_values(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """An MQTT topic set while MQTT was set up survives saving without it."""
    # Given a hub whose MQTT topic was set while MQTT was set up
    mqtt = MockConfigEntry(domain="mqtt", data={"broker": "127.0.0.1"})
    mqtt.add_to_hass(hass)
    entry = await setup_hub(hass)
    options = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        options["flow_id"], {"mqtt_topic": "house/{camera_name}"}
    )
    await hass.async_block_till_done()

    # When MQTT is removed and the options are saved again
    await hass.config_entries.async_remove(mqtt.entry_id)
    options = await hass.config_entries.options.async_init(entry.entry_id)
    assert not fields(options) & MQTT_FIELDS
    await hass.config_entries.options.async_configure(
        options["flow_id"], {"retention_max_days": 3}
    )
    await hass.async_block_till_done()

    # Then the topic is kept with the new change
    assert entry.options["mqtt_topic"] == "house/{camera_name}"
    assert entry.options["retention_max_days"] == 3


async def test_notify_services_are_chosen_from_those_that_exist(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """The hub's and a camera's notify services list the existing ones."""
    # Given a phone and an email notify service
    async_mock_service(hass, "notify", "mobile_app_pixel")
    async_mock_service(hass, "notify", "email_me")

    # When the alerts step and a camera's detection step are shown
    result = await alerts_step(hass, "none")
    entry = (await finish_hub_flow(hass, result))["result"]
    _, detection = await camera_steps(hass, entry)

    # Then both offer these services, several at once, and any other typed in
    for form in (result, detection):
        services = selector_of(form, "notify_services")
        assert services["options"] == ["notify.email_me", "notify.mobile_app_pixel"]
        assert services["multiple"] is True
        assert services["custom_value"] is True


def test_reconfigure_steps_say_empty_keeps_the_secret() -> None:
    """Each step asking for a secret has a reconfigure twin that says so."""
    # Given the strings of the hub's and the camera's steps
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    secrets = {
        "dropbox": "dropbox_refresh_token",
        "postgres": "postgres_dsn",
        "openai": "openai_api_key",
        "remote": "remote_api_key",
    }
    camera = {"rtsp": "password", "ftp": "password"}
    for steps, asked in (
        (strings["config"]["step"], secrets),
        (strings["config_subentries"]["camera"]["step"], camera),
    ):
        for step, field in asked.items():
            # When the step's and its reconfigure twin's texts are read
            adding = steps[step]
            again = steps[f"reconfigure_{step}"]

            # Then only the twin says that empty keeps the secret
            assert "keep" not in adding["data_description"][field].lower(), step
            assert "keep the current" in again["data_description"][field], step
            assert set(again["data"]) == set(adding["data"]), step


async def test_reconfiguring_a_camera_with_a_password_uses_its_twin_step(
    hass: HomeAssistant, config_dir: Path, socket_enabled: None
) -> None:
    """Adding an FTP camera shows the ftp step; reconfiguring it, its twin."""
    # Given a hub and an FTP camera added with an account
    entry = await setup_hub(hass)
    flow = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
    )
    added = await hass.config_entries.subentries.async_configure(
        flow["flow_id"], {"name": "Gate", "source_type": "ftp"}
    )
    account = {"port": free_port(), "username": "gate", "password": "pw",
               "max_upload_mb": 5}  # fmt: skip
    done = await hass.config_entries.subentries.async_configure(
        added["flow_id"], account
    )
    await hass.async_block_till_done()
    assert done["type"] is FlowResultType.CREATE_ENTRY
    subentry = next(iter(entry.subentries.values()))

    # When it is reconfigured, leaving the password empty
    again = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    again = await hass.config_entries.subentries.async_configure(
        again["flow_id"], {"name": "Gate"}
    )
    step = again["step_id"]
    saved = await hass.config_entries.subentries.async_configure(
        again["flow_id"], {k: v for k, v in account.items() if k != "password"}
    )
    await hass.async_block_till_done()

    # Then adding used the ftp step, reconfiguring its twin, and the password stays
    assert added["step_id"] == "ftp"
    assert step == "reconfigure_ftp"
    assert saved["reason"] == "reconfigure_successful"
    assert entry.subentries[subentry.subentry_id].data["password"] == "pw"


async def test_settings_not_shown_keep_their_saved_values(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """A camera's summary and model settings survive a reconfigure without them."""
    # Given a hub without models, and a camera saved with a context for
    # summaries, its own risk level and its own objects
    entry = await setup_hub(hass)
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, name="Gate")
    subentry = next(iter(entry.subentries.values()))
    own = {"prompt_context": "Parcels arrive here.", "min_risk_override": "low",
           "detect_classes": ["person"], "min_hits": 2}  # fmt: skip
    hass.config_entries.async_update_subentry(
        entry, subentry, data={**subentry.data, **own}
    )
    await hass.async_block_till_done()

    # When it is reconfigured through every step, tuning its detection
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    hidden = fields(result) & set(own)
    steps: list[dict[str, Any]] = [
        {"name": "Gate", "tune_detection": True, "notify_on_motion": "off"},
        {"notify_services": ["notify.email_me"]},
        {},
        {"watch_folder": str(drop), "settle_seconds": 1},
    ]
    for step in steps:
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], step
        )
    await hass.async_block_till_done()

    # Then the fields it did not show kept their values, the others changed
    assert result["reason"] == "reconfigure_successful"
    data = entry.subentries[subentry.subentry_id].data
    assert hidden == set()
    assert {key: data[key] for key in own} == own
    assert data["notify_on_motion"] == "off"
    assert data["notify_services"] == ["notify.email_me"]


async def _summarized_hub_alerts_step(
    hass: HomeAssistant, model: str, detect: list[str]
) -> dict[str, Any]:
    """A new hub on the onnx model ``model``, summarized, at its alerts step."""
    result = await start_hub_flow(hass)
    steps: list[dict[str, Any]] = [
        {"detector": "onnx"},
        {"model_path": model},
        {"detect_classes": detect, "min_confidence": 0.5, "min_hits": 1},
        {"analyzer": "ai_task"},
        {"ai_task_entity": "ai_task.describer"},
    ]
    for step in steps:
        result = dict(
            await hass.config_entries.flow.async_configure(result["flow_id"], step)
        )
        assert not result.get("errors"), (step, result["errors"])
    assert result["step_id"] == "alerts"
    return result


async def test_summary_rules_offer_the_model_s_own_classes(
    hass: HomeAssistant, config_dir: Path, tmp_path: Path
) -> None:
    """Alert-on choices follow the model: its names, or COCO's groups first."""
    # Given a custom model that finds packages, and a COCO model, in the config dir
    build_red_person_model(config_dir / "package.onnx", names={0: "package"})
    build_red_person_model(config_dir / "coco.onnx")

    # When a summarized hub on the custom model comes to its alerts step
    custom = await _summarized_hub_alerts_step(hass, "package.onnx", ["package"])

    # Then only the model's class is offered, and chosen
    triggers = selector_of(custom, "trigger_classes")
    assert triggers["options"] == ["package"]
    defaults = {str(k): k.default() for k in custom["data_schema"].schema}
    assert defaults["trigger_classes"] == ["package"]

    # When a summarized hub on the COCO model comes to it instead
    flows = hass.config_entries.flow
    flows.async_abort(custom["flow_id"])
    coco = await _summarized_hub_alerts_step(hass, "coco.onnx", ["person"])

    # Then the person, vehicle and animal groups come first, then COCO's other
    # names (a bicycle is a vehicle)
    options = selector_of(coco, "trigger_classes")["options"]
    assert options[:4] == ["person", "vehicle", "animal", "traffic light"]
    assert "package" not in options


@pytest.mark.parametrize("detector", ["ncnn", "onnx", "ultralytics"])
async def test_every_model_field_is_labelled(
    hass: HomeAssistant, config_dir: Path, detector: str
) -> None:
    """A model step labels each field it shows, and no field it lacks."""
    # Given the texts of the hub flow's steps
    strings = json.loads((INTEGRATION / "strings.json").read_text())
    steps = strings["config"]["step"]

    # When the hub flow comes to the detector's model step
    result = await start_hub_flow(hass)
    result = dict(
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"detector": detector}
        )
    )

    # Then its labels and their descriptions are exactly its fields
    assert result["step_id"] == detector
    step = steps[detector]
    assert set(step["data"]) == fields(result)
    assert set(step["data_description"]) == fields(result)
