"""Config flow of the hub and subentry flow of cameras."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.homesec.const import (
    CONF_ANALYZER,
    CONF_DETECTOR,
    CONF_STATE_STORE,
    CONF_STORAGE_TYPE,
    DOMAIN,
    SUBENTRY_CAMERA,
)
from custom_components.homesec.engine.models import Stage

from .helpers import FolderHub, add_camera, setup_hub, wait_for


async def test_hub_flow_creates_entry_on_embedded_defaults(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """The steps create the hub with SQLite state, local storage and alerts."""
    # Given no HomeSec hub yet, and a phone with the Companion app
    async_mock_service(hass, "notify", "mobile_app_pixel")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"

    # When the user keeps the defaults up to the alerts step
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "local"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "detector"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"detector": "motion"}
    )
    assert result["step_id"] == "analyzer"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"analyzer": "none"}
    )
    assert result["step_id"] == "alerts"
    services = next(
        key for key in result["data_schema"].schema if key == "notify_services"
    )
    offered = result["data_schema"].schema[services].config["options"]

    shown = {str(key) for key in result["data_schema"].schema}

    # And picks the phone, alerts on any detection and a 7-day spool
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"notify_services": ["notify.mobile_app_pixel"], "notify_on_motion": True,
         "retention_max_days": 7},
    )  # fmt: skip
    await hass.async_block_till_done()

    # Then the phone was offered, nothing about summaries (there is no summary
    # model), and the hub exists and is loaded
    assert offered == ["notify.mobile_app_pixel"]
    assert not shown & {"trigger_classes", "min_risk_level", "notify_on_activity_types"}
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "HomeSec"
    data = result["data"]
    assert data[CONF_STORAGE_TYPE] == "local"
    assert data[CONF_STATE_STORE] == "sqlite"
    assert data[CONF_DETECTOR] == "motion"
    assert data[CONF_ANALYZER] == "none"
    assert data["notify_services"] == ["notify.mobile_app_pixel"]
    assert (config_dir / "homesec" / "homesec.db").exists()
    assert (config_dir / "homesec" / "clips").is_dir()
    hub = result["result"].runtime_data
    assert hub.engine.policy.settings_for("x").notify_on_motion is True
    assert hub.runtime.retention.max_age == timedelta(days=7)


async def test_alerts_go_to_the_chosen_targets(
    hass: HomeAssistant, config_dir: Path, motion_clip: Path
) -> None:
    """Each target gets each alert; a failing one is retried alone."""
    # Given a hub whose options name a notify entity, a phone and a broken phone
    entity_calls = async_mock_service(hass, "notify", "send_message")
    phone_calls = async_mock_service(hass, "notify", "mobile_app_pixel")
    broken_calls: list[ServiceCall] = []

    async def _offline(call: ServiceCall) -> None:
        broken_calls.append(call)
        raise HomeAssistantError("the phone is offline")

    hass.services.async_register("notify", "mobile_app_old", _offline)
    entry = await setup_hub(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"notify_entities": ["notify.kitchen_display"],
         "notify_services": ["notify.mobile_app_old", "notify.mobile_app_pixel"]},
    )  # fmt: skip
    await hass.async_block_till_done()
    drop = config_dir / "drop"
    drop.mkdir()
    await add_camera(hass, entry, drop, name="Porch")

    # When a clip with motion arrives (the camera alerts on any detection)
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: len(broken_calls) == 3, what="three attempts", timeout=30)
    await wait_for(
        lambda: entry.runtime_data.engine.pipeline.in_flight == 0, what="idle"
    )
    await hass.async_block_till_done()

    # Then the working targets got the camera's alert once, tagged with the clip
    assert [call.data["entity_id"] for call in entity_calls] == [
        "notify.kitchen_display"
    ]
    entity = entity_calls[0].data
    assert set(entity) == {"entity_id", "title", "message"}
    assert entity["title"] == "Porch: Motion"
    assert "\nClip: " in entity["message"]
    assert len(phone_calls) == 1
    phone = phone_calls[0].data
    assert phone["title"] == "Porch: Motion"
    assert phone["message"].startswith("Motion at Porch, ")
    assert phone["data"]["tag"].startswith("porch_")
    assert phone["data"]["group"] == "porch"
    assert not hass.states.async_entity_ids("persistent_notification")

    # And the clip's history shows who got it and which one failed
    state = await entry.runtime_data.engine.repository.get(phone["data"]["tag"])
    assert state is not None
    assert "notify.mobile_app_pixel" in state.delivered
    assert "notify.mobile_app_old" not in state.delivered
    assert "the phone is offline" in (state.stages[Stage.NOTIFY].error or "")


async def test_second_hub_is_refused(hass: HomeAssistant, config_dir: Path) -> None:
    """Only one hub can exist."""
    # Given a hub
    await setup_hub(hass)

    # When the user starts the flow again
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )

    # Then it aborts
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_camera_subentry_creates_device_and_entities(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Adding a folder camera gives one device with its entities."""
    # Given a hub and a folder
    entry = await setup_hub(hass)
    folder = config_dir / "drop"
    folder.mkdir()

    # When a camera is added through the subentry flow
    result = await add_camera(hass, entry, folder, name="Back Yard")

    # Then the subentry, its device and its entities exist
    assert result["type"] is FlowResultType.CREATE_ENTRY
    subentry = next(iter(entry.subentries.values()))
    assert subentry.subentry_type == SUBENTRY_CAMERA
    assert subentry.title == "Back Yard"
    assert subentry.unique_id == "back_yard"
    assert subentry.data["watch_folder"] == str(folder)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, subentry.subentry_id), entry.entry_id
    )
    assert device is not None
    assert device.name == "Back Yard"
    entities = er.async_entries_for_device(er.async_get(hass), device.id)
    assert sorted(e.entity_id for e in entities) == [
        "binary_sensor.back_yard_alert",
        "binary_sensor.back_yard_animal",
        "binary_sensor.back_yard_motion",
        "binary_sensor.back_yard_person",
        "binary_sensor.back_yard_vehicle",
        "button.back_yard_analyze_last_clip",
        "camera.back_yard",
        "event.back_yard_alert",
        "event.back_yard_detection",
        "image.back_yard_snapshot",
        "sensor.back_yard_clips_today",
        "sensor.back_yard_last_activity",
        "sensor.back_yard_last_clip",
        "sensor.back_yard_last_risk_level",
        "sensor.back_yard_last_summary",
        "switch.back_yard_detection",
        "switch.back_yard_notifications",
    ]
    assert all(e.config_subentry_id == subentry.subentry_id for e in entities)


async def test_camera_subentry_errors(
    hass: HomeAssistant, config_dir: Path, folder_hub: FolderHub
) -> None:
    """Bad names and folders are reported on their fields."""
    # Given a hub with a camera named Front door
    entry = folder_hub.entry
    outside = config_dir.parent / "outside"
    outside.mkdir()
    garage_folder = config_dir / "garage"  # a folder of its own
    garage_folder.mkdir()
    for name, error in (("Front Door", "name_exists"), ("!!!", "invalid_name")):
        # When the user picks a name that is taken or has no letter
        result = await hass.config_entries.subentries.async_init(
            (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"name": name, "source_type": "folder"}
        )
        # Then the first form comes back with the error on the name
        assert result["errors"] == {"name": error}
    cases = [
        ({"watch_folder": "relative/path"}, {"watch_folder": "folder_not_absolute"}),
        (
            {"watch_folder": str(config_dir / "missing")},
            {"watch_folder": "folder_not_found"},
        ),
        ({"watch_folder": str(outside)}, {"watch_folder": "folder_not_allowed"}),
    ]
    for change, errors in cases:
        # When the user submits a bad value
        result = await hass.config_entries.subentries.async_init(
            (entry.entry_id, SUBENTRY_CAMERA), context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], {"name": "Garage", "source_type": "folder"}
        )
        assert result["step_id"] == "folder"
        user_input = {"watch_folder": str(garage_folder), "settle_seconds": 5} | change
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"], user_input
        )

        # Then the form comes back with the error on that field
        assert result["type"] is FlowResultType.FORM, change
        assert result["errors"] == errors, change

        # When the user corrects it
        result = await hass.config_entries.subentries.async_configure(
            result["flow_id"],
            user_input | {"watch_folder": str(garage_folder)},
        )

        # Then the camera is created, and removed again for the next case
        assert result["type"] is FlowResultType.CREATE_ENTRY, change
        garage = next(s for s in entry.subentries.values() if s.unique_id == "garage")
        hass.config_entries.async_remove_subentry(entry, garage.subentry_id)
        await hass.async_block_till_done()


async def test_camera_reconfigure_keeps_id_and_entities(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Reconfiguring a camera changes its settings, not its id."""
    # Given a camera watching one folder
    entry = await setup_hub(hass)
    first = config_dir / "first"
    first.mkdir()
    second = config_dir / "second"
    second.mkdir()
    await add_camera(hass, entry, first, name="Porch")
    subentry = next(iter(entry.subentries.values()))

    # When the user reconfigures it with a bad folder, then a good one
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_CAMERA),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry.subentry_id},
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "!!!"}
    )
    assert result["errors"] == {"name": "invalid_name"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"name": "Porch camera", "notify_on_motion": "on"}
    )
    assert result["step_id"] == "folder"
    new_input = {"watch_folder": str(config_dir / "nope"), "settle_seconds": 3}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], new_input
    )
    assert result["errors"] == {"watch_folder": "folder_not_found"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], new_input | {"watch_folder": str(second)}
    )
    await hass.async_block_till_done()

    # Then the camera keeps its id and entities, with the new settings
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    updated = entry.subentries[subentry.subentry_id]
    assert updated.title == "Porch camera"
    assert updated.data["camera_id"] == "porch"
    assert updated.data["watch_folder"] == str(second)
    assert updated.data["notify_on_motion"] == "on"
    motion = er.async_get(hass).async_get("binary_sensor.porch_motion")
    assert motion is not None
    assert motion.unique_id == f"{subentry.subentry_id}_motion"
    assert hass.states.get("binary_sensor.porch_motion").state == "off"
    assert entry.runtime_data.cameras["porch"].data["watch_folder"] == str(second)


async def test_options_change_policy_and_retention(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """The options flow changes the alert policy and spool limits; the hub reloads."""
    # Given a hub on defaults (no alert on any detection, 5 GB, 30 days)
    entry = await setup_hub(hass)
    assert entry.runtime_data.engine.policy.settings_for("x").notify_on_motion is False

    # When the options are changed
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert "min_confidence" not in result["data_schema"].schema  # motion detector
    assert "min_risk_level" not in result["data_schema"].schema  # no summaries
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "notify_on_motion": True,
            "retention_max_gb": 1,
            "retention_max_days": 0,
        },
    )
    await hass.async_block_till_done()

    # Then the reloaded hub uses them
    assert result["type"] is FlowResultType.CREATE_ENTRY
    hub = entry.runtime_data
    settings = hub.engine.policy.settings_for("x")
    assert settings.notify_on_motion is True
    assert hub.runtime.retention.max_bytes == 1024**3
    assert hub.runtime.retention.max_age is None
