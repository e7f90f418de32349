"""FTP source: cameras upload clips to a small pyftpdlib server of their own.

The server runs in its own thread (pyftpdlib has its own I/O loop) with a
thread per connection. Only the camera's account (or anonymous, when enabled)
may log in. Every path argument goes through one filter (``path_problem``):
no ``..``, backslash, control character, hidden (``.``) part or overlong name;
absolute paths stay inside the camera's upload folder (its virtual root).
Uploads (``STOR``) must also name a video or image; commands that would pick
or change a name on the server (``STOU``, ``APPE``, renames, deletions,
``SITE``) are refused. A file is handed over only once its transfer completed,
its name passes the filter and it reads as a video or image.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import logging
import os
from pathlib import Path, PurePosixPath
import threading
from typing import Any, ClassVar
import warnings

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import ThreadedFTPServer

from ..faults import Fault, fault_of
from ..interfaces import BlockingRunner, ClipSink, ClipSource
from ..models import Clip
from ..spool import Spool
from ..text import count, first_line
from .folder import VIDEO_EXTENSIONS
from .handover import hand_over
from .readable import media_duration, readable_media

_LOGGER = logging.getLogger(__name__)

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png"})
ACCEPTED_EXTENSIONS = VIDEO_EXTENSIONS | IMAGE_EXTENSIONS
PATH_COMMANDS = frozenset(
    {"STOR", "MKD", "XMKD", "CWD", "XCWD", "SIZE", "MDTM", "RETR", "LIST", "NLST",
     "MLSD", "MLST", "STAT"}
)  # fmt: skip
UPLOAD_COMMANDS = frozenset({"STOR"})
REFUSED_COMMANDS = frozenset(
    {"APPE", "STOU", "RNFR", "RNTO", "DELE", "RMD", "XRMD", "MFMT", "SITE"}
)
"""Commands that would append, let the server pick a name, rename, delete or
change a file (``SITE CHMOD``)."""
WRITE_PERMISSIONS = "elwm"
"""Change folder, list, store, make folders (cameras make dated folders)."""
MAX_NAME_CHARS = 255
MAX_PATH_CHARS = 1024
MAX_DEPTH = 8


class FtpSettings(BaseModel):
    """The camera's FTP server."""

    model_config = ConfigDict(frozen=True)

    port: int = Field(default=2121, ge=0, le=65535)
    host: str = "0.0.0.0"  # noqa: S104 - cameras are on the LAN
    username: str | None = None
    password: SecretStr | None = None
    allow_anonymous: bool = False
    passive_ports: tuple[int, int] | None = None
    max_upload_mb: float = Field(default=200.0, gt=0)


def path_problem(arg: str) -> str | None:
    """Why an FTP path argument is refused (None: it is fine).

    Refused: ``..`` (climbing out), backslashes (another separator on some
    systems), control characters (NUL ends a C string), hidden parts (HomeSec's
    own reservation and recording files are hidden) and overlong names.
    """
    if "\\" in arg or any(ord(char) < 32 or char == "\x7f" for char in arg):
        return "control characters and backslashes are not allowed"
    if len(arg) > MAX_PATH_CHARS:
        return "the path is too long"
    parts = [part for part in PurePosixPath(arg).parts if part != "/"]
    if len(parts) > MAX_DEPTH:
        return "the path is too deep"
    for part in parts:
        if part == "..":
            return "the path leaves the upload folder"
        if part.startswith(".") and part != ".":
            return "hidden names are not allowed"
        if len(part) > MAX_NAME_CHARS:
            return "the name is too long"
    return None


def upload_problem(arg: str) -> str | None:
    """Why an upload's file name is refused (None: it may be uploaded)."""
    if problem := path_problem(arg):
        return problem
    path = PurePosixPath(arg)
    if not path.stem or path.suffix.lower() not in ACCEPTED_EXTENSIONS:
        return "only video and image files are accepted"
    return None


def _port_list(ports: tuple[int, int] | None) -> list[int] | None:
    return list(range(ports[0], ports[1] + 1)) if ports else None


class _UploadHandler(FTPHandler):  # type: ignore[misc] # pyftpdlib is untyped
    """Refuses hostile paths and names; reports complete and incomplete files."""

    on_received: ClassVar[Callable[[Path], None]]

    def pre_process_command(self, line: str, cmd: str, arg: str) -> Any:
        """Check commands and path arguments before pyftpdlib resolves them."""
        problem: str | None = None
        if cmd in REFUSED_COMMANDS:
            problem = "only uploads under their own name are allowed"
        elif cmd in UPLOAD_COMMANDS:
            problem = upload_problem(arg or "")
        elif cmd in PATH_COMMANDS and arg:
            problem = path_problem(arg)
        if problem is not None:
            self.respond(f"553 Not allowed: {problem}.")
            return None
        return super().pre_process_command(line, cmd, arg)

    def on_file_received(self, file: str) -> None:
        """A complete upload: hand it over."""
        type(self).on_received(Path(file))

    def on_incomplete_file_received(self, file: str) -> None:
        """An aborted or refused upload: drop what arrived."""
        _LOGGER.warning("Dropped an incomplete FTP upload: %s", Path(file).name)
        Path(file).unlink(missing_ok=True)

    def on_login_failed(self, username: str, password: str) -> None:
        """Log a refused login (never the password)."""
        _LOGGER.warning(
            "FTP login refused for user %r from %s", username, self.remote_ip
        )


class _LimitedDTPHandler(DTPHandler):  # type: ignore[misc]
    """Cuts an upload off once it is larger than allowed."""

    max_bytes: ClassVar[int]

    def handle_read(self) -> None:
        """Receive, then refuse oversize files."""
        super().handle_read()
        if self.receive and self.tot_bytes_received > self.max_bytes:
            self.transfer_finished = False
            self._resp = ("552 Upload too large.", _LOGGER.info)
            self.close()

    handle_read_event = handle_read  # pyftpdlib dispatches to this alias


class FtpSource(ClipSource):
    """Runs the camera's FTP server; finished uploads go to the spool."""

    def __init__(
        self,
        camera_name: str,
        settings: FtpSettings,
        upload_dir: Path,
        spool: Spool,
        run_blocking: BlockingRunner,
    ) -> None:
        """Uploads land in ``upload_dir`` before they move to the spool."""
        self.camera_name = camera_name
        self._settings = settings
        self._upload_dir = upload_dir
        self._spool = spool
        self._run = run_blocking
        self._server: ThreadedFTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sink: ClipSink | None = None
        self._problem: str | None = None
        self._fault: Fault | None = None
        self._bound_port = 0

    @property
    def problem(self) -> str | None:
        """Why the server cannot run."""
        return self._problem

    @property
    def fault(self) -> Fault | None:
        """The kind of ``problem`` (a port in use, not allowed...)."""
        return self._fault

    @property
    def port(self) -> int:
        """The port the server listens on (useful when configured as 0)."""
        return self._bound_port or self._settings.port

    async def start(self, sink: ClipSink) -> None:
        """Hand over uploads finished before a restart, then listen."""
        self._loop = asyncio.get_running_loop()
        self._sink = sink
        for clip in await self._run(self._adopt_leftovers):
            await sink(clip)
        try:
            self._server = await self._run(self._make_server)
        except OSError as err:
            self._problem = (
                f"cannot listen on port {self._settings.port}: {first_line(err)}"
            )
            self._fault = fault_of(err)
            _LOGGER.error(  # noqa: TRY400 - the reason is enough
                "FTP server for %s: %s", self.camera_name, self._problem
            )
            return
        self._problem = self._fault = None
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._serve, name=f"homesec ftp {self.camera_name}", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        """Stop listening and wait for the server's threads."""
        self._stop.set()
        if self._thread is not None:
            await self._run(self._thread.join)
            self._thread = None
        self._server = None

    def _make_server(self) -> ThreadedFTPServer:
        settings = self._settings
        self._upload_dir.mkdir(parents=True, exist_ok=True)
        authorizer = DummyAuthorizer()
        home = str(self._upload_dir)
        if settings.username and settings.password is not None:
            authorizer.add_user(
                settings.username,
                settings.password.get_secret_value(),
                home,
                perm=WRITE_PERMISSIONS,
            )
        if settings.allow_anonymous:  # explicitly enabled by the user
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                authorizer.add_anonymous(home, perm=WRITE_PERMISSIONS)
        max_bytes = int(settings.max_upload_mb * 1024 * 1024)
        dtp = type("CameraDTPHandler", (_LimitedDTPHandler,), {"max_bytes": max_bytes})
        handler = type(
            "CameraFTPHandler",
            (_UploadHandler,),
            {
                "authorizer": authorizer,
                "dtp_handler": dtp,
                "on_received": staticmethod(self._received),
                "banner": "HomeSec ready.",
                "passive_ports": (
                    list(
                        range(settings.passive_ports[0], settings.passive_ports[1] + 1)
                    )
                    if settings.passive_ports
                    else None
                ),
            },
        )
        # Its own I/O loop: pyftpdlib's default one is shared by every server.
        server = ThreadedFTPServer(
            (settings.host, settings.port), handler, ioloop=IOLoop()
        )
        self._bound_port = int(server.socket.getsockname()[1])
        server.max_cons = 16
        return server

    def _serve(self) -> None:
        server = self._server
        if server is None:
            return
        try:
            while not self._stop.is_set():
                server.serve_forever(timeout=0.2, blocking=False, handle_exit=False)
        finally:
            server.close_all()

    def _refusal(self, path: Path) -> str | None:
        """Why a file of the upload folder may not become a clip (None: it may)."""
        try:
            relative = path.relative_to(self._upload_dir).as_posix()
        except ValueError:
            return "outside the upload folder"
        if problem := upload_problem(relative):
            return problem
        return None if readable_media(path) else "not a readable video or image"

    def _received(self, path: Path) -> None:
        """In a connection thread: check the upload, then spool and submit it."""
        if problem := self._refusal(path):
            _LOGGER.warning(
                "Ignored an FTP upload for %s: %s", self.camera_name, problem
            )
            path.unlink(missing_ok=True)
            return
        hand_over(self._loop, self._sink, self._adopt(path, datetime.now(UTC)))

    def _adopt(self, path: Path, uploaded: datetime) -> Clip:
        """Move an upload into the spool, keeping the name the camera gave it.

        The name is the path inside the upload folder: cameras often name a
        dated folder rather than the file. Cameras upload a clip once it is
        recorded, so it started its length before ``uploaded`` (when the
        upload finished); a picture, or a video whose length is unknown,
        starts then.
        """
        name = path.relative_to(self._upload_dir).as_posix()
        start = uploaded - (media_duration(path) or timedelta())
        clip = self._spool.adopt(path, self.camera_name, "ftp", start)
        return clip.model_copy(update={"original_name": name})

    def _adopt_leftovers(self) -> list[Clip]:
        """Uploads a stop or crash left behind: complete ones become clips.

        The server is not running yet, so nothing here is being written: a file
        that passes the upload checks is handed over, anything else (an upload
        cut off mid-way, a name the filter refuses) is deleted.
        """
        self._spool.tidy(self.camera_name)
        if not self._upload_dir.is_dir():
            return []
        clips = []
        dropped = 0
        for root, _, names in os.walk(self._upload_dir):
            for name in sorted(names):
                path = Path(root) / name
                if self._refusal(path) is not None:
                    path.unlink(missing_ok=True)
                    dropped += 1
                    continue
                mtime = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                clips.append(self._adopt(path, mtime))
        if dropped:
            _LOGGER.warning(
                "Deleted %s of %s left by a stop",
                count(dropped, "incomplete or refused FTP upload"), self.camera_name,
            )  # fmt: skip
        return clips
