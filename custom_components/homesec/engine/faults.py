"""Why something failed, in a word a person understands (a translation key).

Exceptions carry technical texts: ``[Errno 2] No such file or directory``,
``ConnectionRefusedError``, libpq's ``connection to server ... failed``. Users
read a ``Fault`` instead; the technical text goes to the log.
"""

from __future__ import annotations

from enum import StrEnum
import errno
import socket

import av.error

from .errors import CredentialsRejected, VideoDecodeError


class Fault(StrEnum):
    """A failure's kind, as users name it (``fault_<value>`` in translations)."""

    FILE_NOT_FOUND = "file_not_found"
    NOT_A_FOLDER = "not_a_folder"
    PERMISSION_DENIED = "permission_denied"
    READ_ONLY = "read_only"
    NO_SPACE = "no_space"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_LOST = "connection_lost"
    UNREACHABLE = "unreachable"
    TIMED_OUT = "timed_out"
    AUTH_FAILED = "auth_failed"
    PORT_IN_USE = "port_in_use"
    STREAM_NOT_FOUND = "stream_not_found"
    STREAM_ENDED = "stream_ended"
    NO_VIDEO = "no_video"
    NOT_A_VIDEO = "not_a_video"
    CAMERA_UNAVAILABLE = "camera_unavailable"
    SERVER_ERROR = "server_error"
    UNKNOWN = "unknown"


class FaultError(Exception):
    """A failure whose kind is known where it is raised.

    Other errors may name their kind too, in a ``fault`` attribute.
    """

    def __init__(self, message: str, fault: Fault) -> None:
        """``message`` for the log, ``fault`` for users."""
        super().__init__(message)
        self.fault = fault


ERRNO_FAULTS = {
    errno.ENOENT: Fault.FILE_NOT_FOUND,
    errno.ENOTDIR: Fault.NOT_A_FOLDER,
    errno.EACCES: Fault.PERMISSION_DENIED,
    errno.EPERM: Fault.PERMISSION_DENIED,
    errno.EROFS: Fault.READ_ONLY,
    errno.ENOSPC: Fault.NO_SPACE,
    errno.EDQUOT: Fault.NO_SPACE,
    errno.ECONNREFUSED: Fault.CONNECTION_REFUSED,
    errno.ECONNRESET: Fault.CONNECTION_LOST,
    errno.ECONNABORTED: Fault.CONNECTION_LOST,
    errno.EPIPE: Fault.CONNECTION_LOST,
    errno.EHOSTUNREACH: Fault.UNREACHABLE,
    errno.ENETUNREACH: Fault.UNREACHABLE,
    errno.EHOSTDOWN: Fault.UNREACHABLE,
    errno.ETIMEDOUT: Fault.TIMED_OUT,
    errno.EADDRINUSE: Fault.PORT_IN_USE,
}

TEXT_FAULTS = (  # what drivers without errnos say (libpq, SQLite, HTTP clients)
    ("password authentication failed", Fault.AUTH_FAILED),
    ("authentication failed", Fault.AUTH_FAILED),
    ("connection refused", Fault.CONNECTION_REFUSED),
    ("timed out", Fault.TIMED_OUT),
    ("timeout", Fault.TIMED_OUT),
    ("could not translate host name", Fault.UNREACHABLE),
    ("name or service not known", Fault.UNREACHABLE),
    ("no route to host", Fault.UNREACHABLE),
    ("no space left", Fault.NO_SPACE),
    ("database or disk is full", Fault.NO_SPACE),
    ("permission denied", Fault.PERMISSION_DENIED),
    ("readonly database", Fault.READ_ONLY),
    ("read-only file system", Fault.READ_ONLY),
    ("unable to open database file", Fault.FILE_NOT_FOUND),
    ("no such file or directory", Fault.FILE_NOT_FOUND),
)

MAX_CAUSES = 8


def fault_of(err: BaseException) -> Fault:
    """The kind of failure ``err`` is, looking through its causes.

    A clip that cannot be decoded is "not a video" unless a cause says more
    (a file that vanished, a disk that cannot be read).
    """
    found: Fault | None = None
    seen: BaseException | None = err
    for _ in range(MAX_CAUSES):
        if seen is None:
            break
        fault = _own_fault(seen)
        if fault is not None and fault is not Fault.NOT_A_VIDEO:
            return fault
        found = found or fault
        seen = seen.__cause__ or getattr(seen, "orig", None) or _wrapped(seen)
    return found or _text_fault(err)


def _wrapped(err: BaseException) -> BaseException | None:
    """An error passed as another's only argument (pyftpdlib's bind error)."""
    inner = err.args[0] if len(err.args) == 1 else None
    return inner if isinstance(inner, BaseException) else None


def _own_fault(err: BaseException) -> Fault | None:
    """The fault ``err`` itself names, without its causes."""
    if isinstance(named := getattr(err, "fault", None), Fault):
        return named
    match err:
        case CredentialsRejected() | av.error.HTTPUnauthorizedError():
            return Fault.AUTH_FAILED
        case av.error.HTTPForbiddenError():
            return Fault.PERMISSION_DENIED
        case av.error.HTTPNotFoundError():
            return Fault.STREAM_NOT_FOUND
        case VideoDecodeError() | av.error.InvalidDataError():
            return Fault.NOT_A_VIDEO
        case socket.gaierror():
            return Fault.UNREACHABLE
        case OSError(errno=code) if code in ERRNO_FAULTS:
            return ERRNO_FAULTS[code]
        case TimeoutError():
            return Fault.TIMED_OUT
    return None


def _text_fault(err: BaseException) -> Fault:
    """The fault an error's text names, for drivers that give no errno."""
    text = str(err).lower()
    for words, fault in TEXT_FAULTS:
        if words in text:
            return fault
    return Fault.UNKNOWN
