"""Live detection's frame budget: per camera, across cameras, and per second."""

from __future__ import annotations

from pathlib import Path

from homeassistant.core import HomeAssistant

from custom_components.homesec.engine.live_budget import LiveBudget, LiveSettings

from .helpers import setup_hub, setup_onnx_hub


def test_a_camera_waits_for_its_previous_frame() -> None:
    """A camera gets no frame while its previous one waits for the detector."""
    # Given a budget and a camera whose frame is being checked
    budget = LiveBudget(LiveSettings())
    assert budget.take("porch", 0.0) is None

    # When it offers another before the first is done, and after
    refused = budget.take("porch", 0.5)
    budget.done("porch")
    granted = budget.take("porch", 0.6)

    # Then the first is refused (and counted), the second granted
    assert refused == "the detector is still busy with its previous frame"
    assert granted is None
    assert budget.skipped == 1


def test_cameras_share_the_waiting_frames_and_the_rate() -> None:
    """Across cameras: at most ``max_waiting`` waiting, ``total_fps`` a second."""
    # Given a budget of 2 waiting frames and 3 frames a second
    budget = LiveBudget(LiveSettings(max_waiting=2, total_fps=3))

    # When three cameras offer a frame at once
    answers = [budget.take(camera, 0.0) for camera in ("a", "b", "c")]

    # Then the third is refused: two are waiting already
    assert answers == [None, None, "the detector is busy with other cameras"]

    # When those two are done and frames keep coming within the same second
    budget.done("a")
    budget.done("b")
    third = budget.take("c", 0.2)
    budget.done("c")
    fourth = budget.take("a", 0.4)

    # Then the third frame of the second is granted, the fourth is not
    assert third is None
    assert fourth == "the frame budget across cameras is spent"
    # And a second after the first grants, frames are granted again
    assert budget.take("a", 1.01) is None


async def test_the_hub_options_set_live_detections_budget(
    hass: HomeAssistant, config_dir: Path, red_model: Path
) -> None:
    """The options form's live checks reach the hub's live detection budget."""
    # Given a hub detecting people with a model, and its options form
    entry = await setup_onnx_hub(hass, red_model)
    form = await hass.config_entries.options.async_init(entry.entry_id)
    assert {"live_fps", "live_total_fps"} <= {
        str(k) for k in form["data_schema"].schema
    }
    assert entry.runtime_data.engine.live.budget.settings.camera_fps == 2.0

    # When the user wants 1 check a second per camera and 3 across cameras
    await hass.config_entries.options.async_configure(
        form["flow_id"], {"live_fps": 1, "live_total_fps": 3}
    )
    await hass.async_block_till_done()

    # Then the reloaded hub's live detection holds to them
    settings = entry.runtime_data.engine.live.budget.settings
    assert (settings.camera_fps, settings.total_fps) == (1.0, 3.0)


async def test_a_motion_only_hub_offers_no_live_checks(
    hass: HomeAssistant, config_dir: Path
) -> None:
    """Without a detection model there is nothing to check live: no such fields."""
    # Given a hub that detects motion only
    entry = await setup_hub(hass)

    # When its options form opens
    form = await hass.config_entries.options.async_init(entry.entry_id)

    # Then it does not offer live checks
    assert not {"live_fps", "live_total_fps"} & {
        str(k) for k in form["data_schema"].schema
    }
