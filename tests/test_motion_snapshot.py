"""Motion-only clips get a snapshot: the frame with the most motion, outlined."""

from __future__ import annotations

import io
from pathlib import Path

from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import numpy as np
from PIL import Image
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.homesec.const import DOMAIN
from custom_components.homesec.engine.detect.motion import MotionSettings, scan_motion

from .helpers import FolderHub, wait_for

OUTLINE = (255, 214, 10)  # the box colour of classes without their own


def _outlined(jpeg: bytes) -> int:
    """How many pixels of the picture are the outline's yellow."""
    rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    near = (abs(r - OUTLINE[0]) < 40) & (abs(g - OUTLINE[1]) < 40) & (b < 90)
    return int(near.sum())


def test_motion_scan_draws_the_changed_area(motion_clip: Path) -> None:
    """The motion detector's result carries a JPEG with the moving box outlined."""
    # Given a clip with a white box moving across a dark background
    # When it is scanned for motion
    result = scan_motion(motion_clip, MotionSettings())

    # Then it found motion and drew its snapshot at the clip's size
    assert result.detected_classes == ["motion"]
    assert result.snapshot_jpeg is not None
    assert Image.open(io.BytesIO(result.snapshot_jpeg)).size == (640, 360)
    assert _outlined(result.snapshot_jpeg) > 200


def test_a_still_clip_has_no_snapshot(still_clip: Path) -> None:
    """Without motion there is nothing to show."""
    # Given a clip where nothing moves
    # When it is scanned for motion
    result = scan_motion(still_clip, MotionSettings())

    # Then there is no detection and no snapshot
    assert result.detected_classes == []
    assert result.snapshot_jpeg is None


async def test_motion_only_hub_shows_snapshots(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    folder_hub: FolderHub,
    motion_clip: Path,
) -> None:
    """Snapshot entity, library thumbnail and snapshot view work without a model."""
    # Given a hub on motion detection with a folder camera
    assert await async_setup_component(hass, "media_source", {})
    entry = folder_hub.entry

    # When a clip with motion arrives and is processed
    (folder_hub.folder / "clip.mp4").write_bytes(motion_clip.read_bytes())
    clips = entry.runtime_data.clips
    repository = entry.runtime_data.engine.repository
    await wait_for(
        lambda: hass.states.get("image.front_door_snapshot").state != "unknown",
        what="the snapshot entity",
    )
    clip_id = (await repository.clip_ids("front_door") or [""])[0]

    # Then the clip has its outlined snapshot, and the library shows it
    jpeg = await clips.async_snapshot(clip_id)
    assert jpeg is not None and _outlined(jpeg) > 200
    camera = await media_source.async_browse_media(
        hass, f"media-source://{DOMAIN}/camera/front_door"
    )
    day = await media_source.async_browse_media(
        hass, camera.children[0].media_content_id
    )
    assert day.children[0].thumbnail is not None
    assert day.children[0].thumbnail.startswith(f"/api/homesec/snapshots/{clip_id}")
    # And the snapshot view serves it
    client = await hass_client()
    response = await client.get(f"/api/homesec/snapshots/{clip_id}")
    assert response.status == 200
    assert response.content_type == "image/jpeg"
    assert await response.read() == jpeg
