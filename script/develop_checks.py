"""What ``script/develop --check`` verifies on the running demo instance.

Each check goes through Home Assistant's own APIs (REST, websocket, the signed
paths the browser loads), waits a bounded time for the demo clip, and raises
``SystemExit`` with what is missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from develop_instance import Instance

CAMERA_NAME = "Demo camera"
CAMERA_ENTITY = "camera.demo_camera"
CAMERA_ENTITIES = {
    "binary_sensor.demo_camera_motion",
    "event.demo_camera_detection",
    CAMERA_ENTITY,
    "button.demo_camera_analyze_last_clip",
}
DEFAULT_CONFIG_PARTS = {
    "history", "logbook", "media_source", "mobile_app", "recorder", "stream",
}  # fmt: skip
"""What the demo loads of a user's default_config, so those panels work."""
CLIP_WAIT = 60.0
LINE_WAIT = 30.0
LIBRARY_WAIT = 30.0
LIBRARY_BROWSES = 20
"""At most this many folders are opened looking for the demo clip."""
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")


async def wait_until[T](
    probe: Callable[[], Awaitable[T | None]], limit: float, failure: str
) -> T:
    """``probe()``'s first answer other than None, polled for ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while (found := await probe()) is None:
        if time.monotonic() > deadline:
            raise SystemExit(f"check failed: {failure} within {limit:.0f} s")
        await asyncio.sleep(1)
    return found


async def check(instance: Instance, dropped_at: datetime) -> None:
    """The UI, the demo device, this run's clip, its logbook line and library."""
    await check_ui(instance)
    await check_integrations(instance)
    device_id = await check_device(instance)
    clip_id = await wait_for_clip(instance, dropped_at)
    await check_logbook(instance, dropped_at, device_id)
    await check_library(instance, clip_id)


async def check_ui(instance: Instance) -> None:
    """The frontend is served."""
    async with instance.session.get(f"{instance.base}/") as resp:
        page = await resp.text()
        if resp.status != 200 or "<home-assistant" not in page:
            raise SystemExit(f"check failed: the UI is not served at {instance.base}/")
    print(f"check: the UI answers at {instance.base}/")


async def check_integrations(instance: Instance) -> None:
    """The parts of default_config that HomeSec's panels and targets use."""
    loaded = set((await instance.get("/api/config"))["components"])
    if missing := DEFAULT_CONFIG_PARTS - loaded:
        raise SystemExit(f"check failed: not loaded: {', '.join(sorted(missing))}")
    print(f"check: loaded {', '.join(sorted(DEFAULT_CONFIG_PARTS))}")


async def check_device(instance: Instance) -> str:
    """The demo camera's device has its entities; return the device id."""
    devices, entities = await instance.ws(
        {"type": "config/device_registry/list"},
        {"type": "config/entity_registry/list"},
    )
    device = next((d for d in devices if d["name"] == CAMERA_NAME), None)
    if device is None:
        raise SystemExit(f"check failed: no device named {CAMERA_NAME}")
    ids = {e["entity_id"] for e in entities if e["device_id"] == device["id"]}
    if not ids >= CAMERA_ENTITIES:
        missing = ", ".join(sorted(CAMERA_ENTITIES - ids))
        raise SystemExit(f"check failed: demo camera entities missing: {missing}")
    print(f"check: device {CAMERA_NAME!r} has {', '.join(sorted(ids))}")
    return str(device["id"])


async def wait_for_clip(instance: Instance, dropped_at: datetime) -> str:
    """Wait for the demo clip's detection; return its clip id."""

    async def detected() -> dict[str, Any] | None:
        state = await instance.get("/api/states/event.demo_camera_detection")
        try:
            triggered = datetime.fromisoformat(state["state"])
        except ValueError:
            return None
        return state if triggered >= dropped_at else None

    state = await wait_until(detected, CLIP_WAIT, "the demo clip was not processed")
    attributes = state["attributes"]
    print(
        f"check: the demo clip {attributes['clip_id']} was processed "
        f"(detection {attributes['event_type']} at {state['state']})"
    )
    return str(attributes["clip_id"])


async def check_logbook(
    instance: Instance, dropped_at: datetime, device_id: str
) -> None:
    """The logbook, and the device page's logbook, show the clip's HomeSec line."""
    since = (dropped_at - timedelta(seconds=1)).isoformat()

    async def line(**targets: list[str]) -> dict[str, Any] | None:
        (entries,) = await instance.ws(
            {"type": "logbook/get_events", "start_time": since, **targets}
        )
        return next(
            (
                entry
                for entry in entries
                if entry.get("domain") == "homesec"
                and entry.get("entity_id") == CAMERA_ENTITY
                and entry.get("icon")
                and entry.get("message")
            ),
            None,
        )

    failure = f"no HomeSec line for {CAMERA_ENTITY} with an icon in the logbook"
    found = await wait_until(line, LINE_WAIT, failure)
    print(
        f"check: logbook: {found['name']} {found['message']} "
        f"({found['entity_id']}, {found['icon']})"
    )
    await wait_until(
        lambda: line(device_ids=[device_id]),
        LINE_WAIT,
        f"no HomeSec line in the logbook of {CAMERA_NAME}'s device page",
    )
    print(f"check: the logbook of {CAMERA_NAME}'s device page shows it too")


async def check_library(instance: Instance, clip_id: str) -> None:
    """The media library lists the clip with a thumbnail the browser can load."""

    async def listed() -> dict[str, Any] | None:
        return await find_clip(instance, clip_id)

    failure = f"the library does not list {clip_id} with a thumbnail"
    clip = await wait_until(listed, LIBRARY_WAIT, failure)
    # Thumbnails are signed paths: the browser loads them without a token.
    url = str(clip["thumbnail"])
    if url.startswith("/"):
        url = f"{instance.base}{url}"
    async with instance.session.get(url) as resp:
        body = await resp.read()
        kind = resp.content_type
    if resp.status != 200 or not kind.startswith("image/"):
        raise SystemExit(
            f"check failed: the thumbnail of {clip_id} answers {resp.status} {kind}"
        )
    if not body.startswith(IMAGE_MAGIC):
        raise SystemExit(f"check failed: the thumbnail of {clip_id} is not an image")
    print(
        f"check: library: {clip['title']!r} with a {kind} thumbnail ({len(body)} bytes)"
    )


async def find_clip(instance: Instance, clip_id: str) -> dict[str, Any] | None:
    """The demo camera's library entry for ``clip_id`` once it has a thumbnail.

    Opens the HomeSec library's camera, then its days and pages, newest first,
    at most ``LIBRARY_BROWSES`` folders.
    """
    root = await browse(instance, "media-source://homesec")
    camera = next(
        (c for c in root.get("children") or [] if c["title"] == CAMERA_NAME), None
    )
    if camera is None:
        raise SystemExit(f"check failed: the library has no folder {CAMERA_NAME}")
    folders = [camera["media_content_id"]]
    for _ in range(LIBRARY_BROWSES):
        if not folders:
            break
        folder = await browse(instance, folders.pop(0))
        for child in folder.get("children") or []:
            if child["media_content_id"].endswith(f"/clip/{clip_id}"):
                return child if child.get("thumbnail") else None
            if child.get("can_expand"):
                folders.append(child["media_content_id"])
    return None


async def browse(instance: Instance, media_content_id: str) -> dict[str, Any]:
    """One media browser folder, as the media panel opens it."""
    (folder,) = await instance.ws(
        {"type": "media_source/browse_media", "media_content_id": media_content_id}
    )
    return dict(folder)
