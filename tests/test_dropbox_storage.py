"""Dropbox storage through the official SDK against an HTTPS API double."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from dropbox.exceptions import AuthError
import pytest

from custom_components.homesec.engine.errors import CredentialsRejected
from custom_components.homesec.engine.models import Clip
from custom_components.homesec.engine.storage.dropbox import (
    DropboxSettings,
    DropboxStorage,
)

from .doubles.dropbox_api import API_HOST, CONTENT_HOST, DropboxDouble


async def run_blocking[T](target: Callable[..., T], *args: object) -> T:
    """Run blocking SDK calls in a thread, as Home Assistant's executor does."""
    return await asyncio.to_thread(target, *args)


def make_storage(double: DropboxDouble, **settings: object) -> DropboxStorage:
    """Storage using refresh-token auth unless settings say otherwise."""
    config: dict[str, object] = {
        "root": "/HomeSec",
        "refresh_token": double.state.refresh_token,
        "app_key": double.state.app_key,
        "app_secret": double.state.app_secret,
    }
    config.update(settings)
    return DropboxStorage(
        DropboxSettings.model_validate(config), run_blocking, double.session
    )


def make_clip(folder: Path, data: bytes, camera: str = "front_door") -> Clip:
    """A spooled clip file with ``data``."""
    path = folder / f"{camera}_20261124_101500.mp4"
    path.write_bytes(data)
    return Clip(
        clip_id=path.stem,
        camera_name=camera,
        local_path=path,
        start_ts=datetime(2026, 11, 24, 10, 15, tzinfo=UTC),
        source_type="folder",
    )


async def test_upload_with_refresh_token(double: DropboxDouble, tmp_path: Path) -> None:
    """A clip is uploaded to {root}/{camera}/{clip} after a token refresh."""
    # Given storage configured with a refresh token and a small clip
    storage = make_storage(double)
    clip = make_clip(tmp_path, b"small clip")

    # When it is stored
    outcome = await storage.put(clip)
    await storage.close()

    # Then the bytes are in Dropbox at the right path, with a web link
    stored = double.state.files["/homesec/front_door/front_door_20261124_101500.mp4"]
    assert stored[1] == b"small clip"
    assert outcome.storage_uri == (
        "dropbox:/HomeSec/front_door/front_door_20261124_101500.mp4"
    )
    assert outcome.view_url == (
        "https://www.dropbox.com/home/HomeSec/front_door"
        "?preview=front_door_20261124_101500.mp4"
    )
    # Then the token was refreshed first and each call used its documented host
    assert double.state.requests[0] == (API_HOST, "/oauth2/token")
    assert (CONTENT_HOST, "/2/files/upload") in double.state.requests


async def test_large_clip_uses_upload_sessions(
    double: DropboxDouble, tmp_path: Path
) -> None:
    """A clip bigger than a chunk goes through start, append and finish."""
    # Given a 1 KiB chunk size and a clip of 3.5 chunks
    storage = make_storage(double, chunk_size=1024)
    data = bytes(range(256)) * 14
    clip = make_clip(tmp_path, data)

    # When it is stored
    await storage.put(clip)
    await storage.close()

    # Then the session endpoints carried it and Dropbox holds the exact bytes
    paths = [path for _, path in double.state.requests]
    assert paths.count("/2/files/upload_session/start") == 1
    assert paths.count("/2/files/upload_session/append_v2") == 2
    assert paths.count("/2/files/upload_session/finish") == 1
    assert "/2/files/upload" not in paths
    assert next(iter(double.state.files.values()))[1] == data


async def test_reupload_is_idempotent(double: DropboxDouble, tmp_path: Path) -> None:
    """Storing the same clip again sends no bytes."""
    # Given a clip already stored
    storage = make_storage(double)
    clip = make_clip(tmp_path, b"once")
    first = await storage.put(clip)
    uploads_before = len(double.state.requests)

    # When it is stored again
    second = await storage.put(clip)
    await storage.close()

    # Then only its metadata was asked for, and the outcome is the same
    assert double.state.requests[uploads_before:] == [
        (API_HOST, "/2/files/get_metadata")
    ]
    assert second == first


async def test_access_token_auth_and_bad_token(
    double: DropboxDouble, tmp_path: Path
) -> None:
    """A plain access token works; an unknown one is an authentication error."""
    # Given one valid and one unknown access token
    double.state.access_tokens.add("sl.valid")
    good = make_storage(double, refresh_token=None, access_token="sl.valid")
    bad = make_storage(double, refresh_token=None, access_token="sl.wrong")
    clip = make_clip(tmp_path, b"token clip")

    # When both store the clip
    await good.put(clip)

    # Then the valid token stored it and the unknown one raised
    assert len(double.state.files) == 1
    with pytest.raises(CredentialsRejected) as err:
        await bad.put(clip)
    assert err.value.service == "dropbox"
    assert isinstance(err.value.__cause__, AuthError)
    await good.close()
    await bad.close()


async def test_delete_and_ping(double: DropboxDouble, tmp_path: Path) -> None:
    """Delete removes a clip (a missing one is fine); ping reports reachability."""
    # Given a stored clip
    storage = make_storage(double)
    clip = make_clip(tmp_path, b"bye")
    await storage.put(clip)

    # When it is deleted twice and Dropbox is pinged
    await storage.delete("front_door", clip.local_path.name)
    await storage.delete("front_door", clip.local_path.name)
    reachable = await storage.ping()

    # Then it is gone and Dropbox answered
    assert double.state.files == {}
    assert reachable

    # When the service goes away, then ping says so
    double.stop()
    assert not await storage.ping()
    await storage.close()


def test_settings_need_credentials() -> None:
    """Settings without a token, or a refresh token without app key, are refused."""
    # Given incomplete credentials, when validated, then they are refused
    with pytest.raises(ValueError, match="refresh token"):
        DropboxSettings()
    with pytest.raises(ValueError, match="app key"):
        DropboxSettings(refresh_token="r")


@pytest.mark.parametrize(
    "other", [b"another clip", b"other clip"], ids=["size", "bytes"]
)
async def test_a_different_clip_under_a_stored_name_is_never_overwritten(
    double: DropboxDouble, tmp_path: Path, other: bytes
) -> None:
    """Dropbox keeps the first clip; the same clip again counts as stored."""
    # Given a clip stored in Dropbox, and a different clip with its name
    # (for example after a camera's clock went back)
    storage = make_storage(double)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = make_clip(tmp_path / "a", b"small clip")
    later = make_clip(tmp_path / "b", other)
    await storage.put(first)

    # When the later clip is stored, and the first one again
    with pytest.raises(FileExistsError, match="different clip"):
        await storage.put(later)
    again = await storage.put(first)
    await storage.close()

    # Then the stored copy is still the first clip's
    stored = double.state.files["/homesec/front_door/front_door_20261124_101500.mp4"]
    assert stored[1] == b"small clip"
    assert again.storage_uri.endswith("front_door_20261124_101500.mp4")
