"""Alerts published through Home Assistant's MQTT integration to a real broker."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.homesec.adapters.mqtt_alerts import topic_error

from .helpers import setup_folder_camera, wait_for
from .servers import Mosquitto


def collect(
    messages: list[mqtt.ReceiveMessage],
) -> Callable[[mqtt.ReceiveMessage], None]:
    """A message callback that keeps what it receives."""

    @callback
    def _keep(message: mqtt.ReceiveMessage) -> None:
        messages.append(message)

    return _keep


async def test_alerts_are_published_through_home_assistants_mqtt(
    hass: HomeAssistant,
    config_dir: Path,
    motion_clip: Path,
    mosquitto: Mosquitto,
    socket_enabled: None,
) -> None:
    """The alert JSON goes to the configured topic, QoS and retain flag."""
    # Given Home Assistant's MQTT integration connected to a broker
    (config_dir / "configuration.yaml").write_text("")
    broker = MockConfigEntry(
        domain="mqtt", data={"broker": "127.0.0.1", "port": mosquitto.port}
    )
    broker.add_to_hass(hass)
    assert await hass.config_entries.async_setup(broker.entry_id)
    assert await mqtt.async_wait_for_mqtt_client(hass)
    received: list[mqtt.ReceiveMessage] = []
    await mqtt.async_subscribe(hass, "homesec/#", collect(received), qos=1)

    # And a camera whose hub publishes retained on a topic of its own
    entry, drop = await setup_folder_camera(hass, config_dir)
    options = await hass.config_entries.options.async_init(entry.entry_id)
    bad = await hass.config_entries.options.async_configure(
        options["flow_id"], {"mqtt_topic": "homesec/#"}
    )
    assert bad["errors"] == {"mqtt_topic": "invalid_topic"}
    await hass.config_entries.options.async_configure(
        options["flow_id"],
        {"mqtt_topic": "homesec/{camera_name}/{risk_level}", "mqtt_qos": "2",
         "mqtt_retain": True},
    )  # fmt: skip
    await hass.async_block_till_done()

    # When a clip raises an alert
    (drop / "clip.mp4").write_bytes(motion_clip.read_bytes())
    await wait_for(lambda: bool(received), what="the MQTT alert")

    # Then the broker delivered the alert payload on the camera's topic
    message = received[0]
    assert message.topic == "homesec/front_door/none"
    payload = json.loads(message.payload)
    assert payload["camera_name"] == "front_door"
    assert payload["clip_id"].startswith("front_door_")
    assert payload["dedupe_key"] == payload["clip_id"]
    assert {"summary", "notify_reason", "upload_failed", "vlm_failed"} <= set(payload)

    # And it was retained: a new subscriber gets it with the retain flag
    retained: list[mqtt.ReceiveMessage] = []
    await mqtt.async_subscribe(hass, "homesec/front_door/+", collect(retained), qos=1)
    await wait_for(lambda: bool(retained), what="the retained alert")
    assert retained[0].retain
    assert json.loads(retained[0].payload)["clip_id"] == payload["clip_id"]


def test_topic_templates_are_checked() -> None:
    """Wildcards, unknown fields and broken braces are refused."""
    # Given topic templates, when checked, then only usable ones pass
    assert topic_error("homecam/alerts/{camera_name}") is None
    assert topic_error("cams/{camera_name}/{risk_level}/{activity_type}") is None
    for bad in ("", "cams/#", "cams/+/x", "cams/{secret}", "cams/{camera_name"):
        assert topic_error(bad) == "invalid_topic", bad
