"""Checks of a camera's source settings, run by the camera flow before saving."""

from __future__ import annotations

from collections.abc import Iterable
import errno
import logging
from pathlib import Path
import socket

import av
import av.error
from homeassistant.core import HomeAssistant

from .engine.sources.stream import open_stream

_LOGGER = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://")


def folder_error(hass: HomeAssistant, path: Path) -> str | None:
    """Why a watch folder may not be used, wherever it is (blocking: resolves)."""
    if not path.is_absolute():
        return "folder_not_absolute"
    if not readable_here(hass, path):
        return "folder_not_allowed"
    return None


def missing_folder_error(path: Path, *, create: bool) -> str | None:
    """Why an allowed folder is not there, after creating it if asked (blocking)."""
    if path.is_dir():
        return None
    if not create:
        return "folder_not_found"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _LOGGER.warning("Cannot create the folder %s: %s", path, err.strerror or err)
        return "folder_not_creatable"
    return None


def overlaps(folder: Path, others: Iterable[Path]) -> bool:
    """Whether ``folder`` is, is inside or contains one of ``others`` (blocking)."""
    mine = folder.resolve()
    for other in others:
        theirs = other.resolve()
        if mine.is_relative_to(theirs) or theirs.is_relative_to(mine):
            return True
    return False


def readable_here(hass: HomeAssistant, path: Path) -> bool:
    """Inside the config dir or an allowed external dir (blocking: resolves)."""
    config_dir = Path(hass.config.config_dir).resolve()
    return path.resolve().is_relative_to(config_dir) or hass.config.is_allowed_path(
        str(path)
    )


def stream_error_key(err: BaseException) -> str:
    """The form error for a stream that could not be opened."""
    if isinstance(err, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return "invalid_auth"
    if isinstance(err, av.error.HTTPNotFoundError):
        return "stream_not_found"
    if isinstance(err, NoVideoError):
        return "no_video"
    return "cannot_connect"


class NoVideoError(ValueError):
    """The stream opened but has no video track."""


def probe_stream(url: str, transport: str, timeout: float) -> str | None:
    """Open ``url`` and read one video packet; the form error or None (blocking)."""
    try:
        container = open_stream(
            url, transport=transport, open_timeout=timeout, read_timeout=timeout
        )
        with container:
            if not container.streams.video:
                raise NoVideoError(url)  # noqa: TRY301 - mapped below with the rest
            for packet in container.demux(container.streams.video[0]):
                if packet.size:
                    break
    except Exception as err:  # noqa: BLE001 - libav raises many kinds
        return stream_error_key(err)
    return None


def port_error(port: int) -> str | None:
    """Whether this machine can listen on ``port`` (blocking, quick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))  # noqa: S104 - as the FTP server will
        except OSError as err:
            return "port_in_use" if err.errno == errno.EADDRINUSE else "port_denied"
    return None
