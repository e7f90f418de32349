"""The services the chaos bench takes down and up, each failing for real.

- HTTP doubles (detection server, OpenAI-compatible model server, webhook
  receiver) run on their own event loop in a thread, as remote servers would.
  Down means the listening socket is closed (connection refused); the
  doubles' own modes give HTTP 5xx/429 and slow answers.
- Storage: the clip store's folder (a link) is swapped atomically for a link to
  a plain file, so the real LocalStorage gets the real OSError (NotADirectoryError /
  FileExistsError) the filesystem raises. chmod would not bite: the bench runs
  as root.
- SQLite: a second connection holds an exclusive write lock, as a backup tool
  or another process would; the engine's writes fail with "database is
  locked" once SQLite's busy timeout (5 s) passes.
- Postgres (optional): the real server is stopped (immediate shutdown).
- Dropbox (optional, instead of the local folder): the official SDK against
  the Dropbox API double, whose content endpoints answer HTTP 503.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
import sqlite3
import threading
from typing import Any

import aiohttp
from aiohttp import web

from custom_components.homesec.engine.interfaces import Notifier
from custom_components.homesec.engine.models import Alert

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ServerThread:
    """An event loop in its own thread, hosting the HTTP doubles."""

    def __init__(self) -> None:
        """Start the thread and its loop."""
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="chaos servers", daemon=True
        )
        self._thread.start()

    async def run[T](self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the servers' loop; await it from the bench's loop."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the loop and the thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


class HttpService:
    """One HTTP double on a fixed port of 127.0.0.1 that can be stopped."""

    def __init__(
        self, name: str, routes: list[tuple[str, str, Handler]], thread: ServerThread
    ) -> None:
        """Serve ``routes`` (method, path, handler) once started."""
        self.name = name
        self._routes = routes
        self._thread = thread
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def up(self) -> bool:
        """Whether the server listens."""
        return self._runner is not None

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen (on the same port as before, after a stop)."""
        if self._runner is None:
            self._runner = await self._thread.run(self._start())

    async def _start(self) -> web.AppRunner:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for method, path, handler in self._routes:
            app.router.add_route(method, path, handler)
        runner = web.AppRunner(app, shutdown_timeout=0.2, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = runner.addresses[0][1]
        return runner

    async def stop(self) -> None:
        """Close the socket and every connection: clients get refused."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await self._thread.run(runner.cleanup())


@dataclass
class WebhookReceiver:
    """The receiving end of a webhook: counts the alerts it took per clip."""

    mode: str = "ok"
    """``ok``, or ``http503`` (refuses every alert: nothing is taken)."""
    received: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """POST /alert with the alert payload."""
        if self.mode == "http503":
            return web.Response(status=503, text="busy")
        body = await request.json()
        with self.lock:
            self.received[str(body["clip_id"])] += 1
        return web.json_response({"ok": True})


class WebhookNotifier(Notifier):
    """An output that POSTs the alert's JSON payload to a webhook."""

    def __init__(
        self, name: str, url: str, session: aiohttp.ClientSession, timeout: float
    ) -> None:
        """Post to ``url`` with ``session``."""
        self.name = name
        self._url = url
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def notify(self, alert: Alert) -> None:
        """Deliver; raise when the receiver does not take it."""
        async with self._session.post(
            self._url, json=alert.payload(), timeout=self._timeout
        ) as response:
            if response.status != 200:
                msg = f"the webhook answered HTTP {response.status}"
                raise ConnectionError(msg)


class RecordingNotifier(Notifier):
    """An in-process output (like the event bus): counts what it was given."""

    def __init__(self, name: str) -> None:
        """Name it."""
        self.name = name
        self.received: Counter[str] = Counter()

    async def notify(self, alert: Alert) -> None:
        """Take the alert."""
        self.received[alert.clip_id] += 1


class StorageOutage:
    """Makes the clip store's folder unusable, atomically both ways.

    The store's folder is a symbolic link to the real folder; an outage swaps
    it (one ``rename``) for a link to a plain file, so the real LocalStorage
    gets the real OSError (NotADirectoryError) a vanished mount gives, and a
    copy running at that moment can never create a second folder in its place.
    """

    def __init__(self, root: Path) -> None:
        """Break and repair ``root`` (created here as a link to the real folder)."""
        self.root = root
        self._real = root.with_name(root.name + ".real")
        self._not_mounted = root.with_name(root.name + ".not-mounted")
        self._real.mkdir(parents=True, exist_ok=True)
        self._not_mounted.write_text("the clip store is not mounted\n")
        self._point(self._real)
        self.down = False

    def break_(self) -> None:
        """Point the store's folder at a file (blocking)."""
        if not self.down:
            self._point(self._not_mounted)
            self.down = True

    def repair(self) -> None:
        """Point it at the real folder again (blocking)."""
        if self.down:
            self._point(self._real)
            self.down = False

    def _point(self, target: Path) -> None:
        link = self.root.with_name(f".{self.root.name}.link")
        link.unlink(missing_ok=True)
        link.symlink_to(target)
        link.replace(self.root)


class DropboxOutage:
    """Makes the Dropbox API double refuse uploads (HTTP 503)."""

    def __init__(self, double: Any) -> None:
        """Control ``double`` (a tests.doubles.dropbox_api.DropboxDouble)."""
        self._double = double

    @property
    def down(self) -> bool:
        """Whether uploads fail."""
        return bool(self._double.state.fail_uploads)

    def break_(self) -> None:
        """Fail every upload."""
        self._double.state.fail_uploads = True

    def repair(self) -> None:
        """Take uploads again."""
        self._double.state.fail_uploads = False


class SqliteLock:
    """Holds SQLite's write lock from a second connection, like another process."""

    def __init__(self, path: Path) -> None:
        """Lock ``path`` when asked."""
        self._path = path
        self._conn: sqlite3.Connection | None = None

    @property
    def down(self) -> bool:
        """Whether the lock is held."""
        return self._conn is not None

    def hold(self) -> None:
        """Take the exclusive write lock (blocking; waits for a running write)."""
        if self._conn is not None:
            return
        conn = sqlite3.connect(
            self._path, timeout=30, isolation_level=None, check_same_thread=False
        )
        conn.execute("BEGIN EXCLUSIVE")
        self._conn = conn

    def release(self) -> None:
        """Let the engine write again (blocking)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.execute("ROLLBACK")
            conn.close()


class PostgresOutage:
    """Stops and starts a real PostgreSQL server (tests/servers.py)."""

    def __init__(self, server: Any) -> None:
        """Control ``server`` (a tests.servers.Postgres)."""
        self._server = server
        self.down = False

    def hold(self) -> None:
        """Stop the server at once (blocking)."""
        if not self.down:
            self._server.stop()
            self.down = True

    def release(self) -> None:
        """Start the server again (blocking)."""
        if self.down:
            self._server.start()
            self.down = False
