"""Errors in the user's words: never an errno, an exception class or a URL."""

from __future__ import annotations

import errno
import os
from pathlib import Path
import re
import socket
import sqlite3

import av
import av.error
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest

from custom_components.homesec.clip_access import Reason, Refusal
from custom_components.homesec.const import DOMAIN
from custom_components.homesec.data import Cameras
from custom_components.homesec.engine.errors import (
    CredentialsRejected,
    DetectError,
    VideoDecodeError,
)
from custom_components.homesec.engine.faults import Fault, FaultError, fault_of
from custom_components.homesec.user_errors import refused, user_reason


def _os_error(code: int) -> OSError:
    """An OSError as the system raises it: ``[Errno N] text: 'path'``."""
    return OSError(code, os.strerror(code), "/media/cameras/front")


@pytest.mark.parametrize(
    ("code", "fault"),
    [
        (errno.ENOENT, Fault.FILE_NOT_FOUND),
        (errno.ENOTDIR, Fault.NOT_A_FOLDER),
        (errno.EACCES, Fault.PERMISSION_DENIED),
        (errno.EPERM, Fault.PERMISSION_DENIED),
        (errno.EROFS, Fault.READ_ONLY),
        (errno.ENOSPC, Fault.NO_SPACE),
        (errno.ECONNREFUSED, Fault.CONNECTION_REFUSED),
        (errno.ECONNRESET, Fault.CONNECTION_LOST),
        (errno.EHOSTUNREACH, Fault.UNREACHABLE),
        (errno.ETIMEDOUT, Fault.TIMED_OUT),
        (errno.EADDRINUSE, Fault.PORT_IN_USE),
    ],
)
def test_system_errors_are_named_by_their_errno(code: int, fault: Fault) -> None:
    """Each errno a camera, folder or server gives has its kind."""
    # Given a system error as Python raises it (a subclass for most errnos)
    err = _os_error(code)

    # When its kind is asked, then it is the errno's
    assert fault_of(err) is fault


def test_timeouts_names_and_refusals() -> None:
    """Timeouts, unknown host names and refused credentials have their kind."""
    # Given errors without an errno of their own
    timeout = TimeoutError()
    name = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    refused = CredentialsRejected("postgres", "Postgres refused the credentials")

    # When their kinds are asked, then each is named
    assert fault_of(timeout) is Fault.TIMED_OUT
    assert fault_of(name) is Fault.UNREACHABLE
    assert fault_of(refused) is Fault.AUTH_FAILED


def test_the_cause_names_a_wrapped_error() -> None:
    """An engine error raised from a system error takes the cause's kind."""
    # Given a detection error raised from a refused connection, and a decode
    # error from a file that vanished
    try:
        try:
            raise _os_error(errno.ECONNREFUSED)
        except OSError as err:
            raise DetectError("clip_1", "cannot reach the server", err) from err
    except DetectError as wrapped:
        detect = wrapped
    try:
        try:
            raise _os_error(errno.ENOENT)
        except OSError as err:
            raise VideoDecodeError("clip.mp4 could not be decoded") from err
    except VideoDecodeError as wrapped:
        vanished = wrapped

    # When their kinds are asked (and that of a bind error passed as another
    # error's argument, as pyftpdlib does), then they are the causes'
    assert fault_of(detect) is Fault.CONNECTION_REFUSED
    assert fault_of(OSError(_os_error(errno.EADDRINUSE))) is Fault.PORT_IN_USE
    assert fault_of(vanished) is Fault.FILE_NOT_FOUND
    assert fault_of(VideoDecodeError("clip.mp4 is empty")) is Fault.NOT_A_VIDEO


def test_libav_errors_are_named(tmp_path: Path) -> None:
    """Streams refused, not found or unauthorized, and files that are no video."""
    # Given a real libav error for a file that is not a video, and libav's
    # HTTP errors as its RTSP client raises them
    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(b"\x00\x01garbage" * 500)
    with pytest.raises(av.error.FFmpegError) as caught:
        av.open(str(garbage))
    unauthorized = av.error.HTTPUnauthorizedError(-0x31303134, "401 Unauthorized")
    not_found = av.error.HTTPNotFoundError(-0x34303434, "404 Not Found")

    # When their kinds are asked, then each has its own
    assert fault_of(caught.value) is Fault.NOT_A_VIDEO
    assert fault_of(unauthorized) is Fault.AUTH_FAILED
    assert fault_of(not_found) is Fault.STREAM_NOT_FOUND
    assert fault_of(FaultError("no video", Fault.NO_VIDEO)) is Fault.NO_VIDEO


def test_drivers_without_errno_are_named_by_their_text(tmp_path: Path) -> None:
    """libpq and SQLite say what went wrong only in words."""
    # Given a real SQLite error for a folder that does not exist, and libpq's
    # texts for a refused connection and a wrong password
    with pytest.raises(sqlite3.OperationalError) as sqlite:
        sqlite3.connect(tmp_path / "gone" / "state.db")
    refused = Exception(
        'connection to server at "127.0.0.1", port 5433 failed: Connection refused'
    )
    password = Exception('password authentication failed for user "homesec"')

    # When their kinds are asked, then each is named
    assert fault_of(sqlite.value) is Fault.FILE_NOT_FOUND
    assert fault_of(refused) is Fault.CONNECTION_REFUSED
    assert fault_of(password) is Fault.AUTH_FAILED


def test_anything_else_is_unknown() -> None:
    """An error nobody foresaw is unknown, whatever its class."""
    # Given errors of kinds HomeSec does not name
    errors = [KeyError("x"), ValueError(""), RuntimeError("boom"), ZeroDivisionError()]

    # When their kinds are asked, then they are unknown
    assert [fault_of(err) for err in errors] == [Fault.UNKNOWN] * 4


async def test_user_reasons_are_words_of_the_users_language(
    hass: HomeAssistant,
) -> None:
    """Every kind has a text; no errno, class name or path reaches the user."""
    # Given HomeSec's texts loaded (as they are once it is set up)
    assert await async_setup_component(hass, DOMAIN, {})

    # When the reasons of system errors, a timeout and an unknown error are asked
    reasons = {
        "missing": user_reason(hass, _os_error(errno.ENOENT)),
        "denied": user_reason(hass, _os_error(errno.EACCES)),
        "full": user_reason(hass, _os_error(errno.ENOSPC)),
        "refused": user_reason(hass, _os_error(errno.ECONNREFUSED)),
        "timeout": user_reason(hass, TimeoutError("timed out after 10 s")),
        "password": user_reason(hass, CredentialsRejected("dropbox", "401")),
        "unknown": user_reason(hass, KeyError("detections")),
    }
    every = [user_reason(hass, fault) for fault in Fault]

    # Then each reads as the user's words
    assert reasons == {
        "missing": "file or folder not found",
        "denied": "permission denied",
        "full": "no space left on the disk",
        "refused": "connection refused",
        "timeout": "timed out",
        "password": "wrong user name or password",
        "unknown": "an unexpected error, described in the log",
    }
    assert len(set(every)) == len(Fault)
    for text in every:
        assert "Errno" not in text
        assert "Error" not in text
        assert "_" not in text  # a translation exists for every kind
        assert "/" not in text


@pytest.mark.parametrize("reason", list(Reason))
async def test_every_refusal_is_a_validation_error(
    hass: HomeAssistant, reason: Reason
) -> None:
    """A refused request (busy, unknown, gone, cannot record) is a 400, not a 500."""
    # Given HomeSec's texts and a camera registry with one camera
    assert await async_setup_component(hass, DOMAIN, {})
    cameras = Cameras({})

    # When a request about a camera or clip is refused for this reason
    err = refused(Refusal(reason, "porch", "porch_1"), cameras)

    # Then it is a validation error whose message names the camera or clip
    assert isinstance(err, ServiceValidationError)
    assert err.translation_key == reason.value
    assert "porch" in str(err)


def test_every_error_placeholder_is_a_user_reason() -> None:
    """No exception text reaches a message: each {error} or {problem} is a reason."""
    # Given the Home Assistant side of HomeSec (the engine only logs and stores)
    integration = Path(__file__).parents[1] / "custom_components" / "homesec"
    placeholder = re.compile(
        r"""(?:["'](?:error|problem)["']\s*:|\b(?:error|problem)=)\s*(.+)"""
    )

    # When the values given to the error and problem placeholders are read
    values = [
        f"{path.name}: {found.group(1)}"
        for path in integration.rglob("*.py")
        if "engine" not in path.parts
        for found in placeholder.finditer(path.read_text())
    ]

    # Then there are some, and each is a reason in the user's words
    assert len(values) >= 5
    assert [v for v in values if ": user_reason(" not in v] == []
