"""A Dropbox API v2 double over HTTPS on 127.0.0.1, for the official SDK.

It follows the documented wire format: RPC endpoints on api.dropboxapi.com take
and return JSON; content-upload endpoints on content.dropboxapi.com take their
arguments in the ``Dropbox-API-Arg`` header and the bytes as the body; route
errors are HTTP 409 with ``error_summary``/``error``; an unknown or expired token
is HTTP 401; ``/oauth2/token`` exchanges a refresh token for an access token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
from pathlib import Path
import ssl
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit
import uuid

import requests
from requests.adapters import HTTPAdapter

API_HOST = "api.dropboxapi.com"
TEMPORARY_LINK_HOST = "uc1.dl.dropboxusercontent.com"
CONTENT_HOST = "content.dropboxapi.com"
CONTENT_ROUTES = {
    "/2/files/upload",
    "/2/files/upload_session/start",
    "/2/files/upload_session/append_v2",
    "/2/files/upload_session/finish",
}


@dataclass
class DropboxState:
    """What the double holds and saw."""

    app_key: str = "app-key"
    app_secret: str = "app-secret"
    refresh_token: str = "refresh-token"
    access_tokens: set[str] = field(default_factory=set)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    sessions: dict[str, bytearray] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(host, path) of every request."""
    fail_uploads: bool = False
    fail_all: bool = False
    fail_routes: set[str] = field(default_factory=set)
    """Routes answered with HTTP 503 (for example ``/2/files/delete_v2``)."""
    """Answer every API request with HTTP 503 (Dropbox is down)."""
    modified: dict[str, str] = field(default_factory=dict)
    """``server_modified`` of a file (lower-case path), when not "now"."""
    page_size: int = 3
    """Entries per ``list_folder`` page (the server chooses; small here)."""
    cursors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def content_hash(data: bytes) -> str:
    """Dropbox's content hash: SHA-256 of the SHA-256 of each 4 MiB block."""
    block = 4 * 1024 * 1024
    digests = b"".join(
        hashlib.sha256(data[i : i + block]).digest()
        for i in range(0, max(len(data), 1), block)
    )
    return hashlib.sha256(digests).hexdigest()


def _meta(
    path_display: str, data: bytes, modified: str | None = None
) -> dict[str, Any]:
    now = modified or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        ".tag": "file",
        "name": path_display.rsplit("/", 1)[-1],
        "id": "id:" + hashlib.sha1(path_display.lower().encode()).hexdigest()[:20],
        "client_modified": now,
        "server_modified": now,
        "rev": hashlib.sha1(data).hexdigest()[:16],
        "size": len(data),
        "content_hash": content_hash(data),
        "path_lower": path_display.lower(),
        "path_display": path_display,
        "is_downloadable": True,
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _reply(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _route_error(self, summary: str, error: dict[str, Any]) -> None:
        self._reply(409, {"error_summary": summary, "error": error})

    def do_POST(self) -> None:
        """Serve one API call."""
        state = self.server.state
        host = self.headers.get("Host", "")
        path = urlsplit(self.path).path
        state.requests.append((host, path))
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if state.fail_all or path in state.fail_routes:
            self._reply(503, {"error_summary": "service unavailable"})
            return
        if path == "/oauth2/token":
            self._token(parse_qs(body.decode()))
            return
        expected = CONTENT_HOST if path in CONTENT_ROUTES else API_HOST
        if host != expected:
            self._reply(400, {"error_summary": f"wrong host {host} for {path}"})
            return
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in state.access_tokens:
            self._reply(
                401,
                {
                    "error_summary": "expired_access_token/",
                    "error": {".tag": "expired_access_token"},
                },
            )
            return
        if path in CONTENT_ROUTES:
            arg = json.loads(self.headers.get("Dropbox-API-Arg", "{}"))
            self._content(path, arg, body)
        else:
            self._rpc(path, json.loads(body or b"null"))

    def _token(self, form: dict[str, list[str]]) -> None:
        state = self.server.state
        if (
            form.get("grant_type") != ["refresh_token"]
            or form.get("refresh_token") != [state.refresh_token]
            or form.get("client_id") != [state.app_key]
        ):
            self._reply(400, {"error": "invalid_grant"})
            return
        token = f"sl.{uuid.uuid4().hex}"
        state.access_tokens.add(token)
        self._reply(
            200, {"access_token": token, "token_type": "bearer", "expires_in": 14400}
        )

    def _rpc(self, path: str, arg: Any) -> None:
        files = self.server.state.files
        if path == "/2/check/user":
            self._reply(200, {"result": arg.get("query", "")})
        elif path == "/2/files/get_metadata":
            found = files.get(arg["path"].lower())
            if found is None:
                self._route_error(
                    "path/not_found/",
                    {".tag": "path", "path": {".tag": "not_found"}},
                )
            else:
                self._reply(200, _meta(*found))
        elif path == "/2/files/get_temporary_link":
            found = files.get(arg["path"].lower())
            if found is None:
                self._route_error(
                    "path/not_found/",
                    {".tag": "path", "path": {".tag": "not_found"}},
                )
            else:
                token = hashlib.sha1(found[0].encode()).hexdigest()
                link = f"https://{TEMPORARY_LINK_HOST}/cd/0/get/{token}/file"
                self._reply(200, {"metadata": _meta(*found), "link": link})
        elif path == "/2/files/list_folder":
            self._list_folder(arg)
        elif path == "/2/files/list_folder/continue":
            self._page(arg["cursor"])
        elif path == "/2/files/delete_v2":
            found = files.pop(arg["path"].lower(), None)
            if found is None:
                self._route_error(
                    "path_lookup/not_found/",
                    {".tag": "path_lookup", "path_lookup": {".tag": "not_found"}},
                )
            else:
                self._reply(200, {"metadata": _meta(*found)})
        else:
            self._reply(400, {"error_summary": f"unknown route {path}"})

    def _list_folder(self, arg: dict[str, Any]) -> None:
        """Files (and their folders) under ``path``; paged with a cursor."""
        state = self.server.state
        prefix = arg["path"].lower().rstrip("/") + "/"
        found = [
            _meta(display, data, state.modified.get(lower))
            for lower, (display, data) in sorted(state.files.items())
            if lower.startswith(prefix)
            and (arg.get("recursive") or "/" not in lower[len(prefix) :])
        ]
        if not found and arg["path"]:
            self._route_error(
                "path/not_found/", {".tag": "path", "path": {".tag": "not_found"}}
            )
            return
        folders = {
            m["path_display"].rsplit("/", 1)[0]
            for m in found
            if m["path_lower"].rsplit("/", 1)[0] + "/" != prefix
        }
        entries = [
            {
                ".tag": "folder",
                "name": folder.rsplit("/", 1)[-1],
                "id": "id:" + hashlib.sha1(folder.lower().encode()).hexdigest()[:20],
                "path_lower": folder.lower(),
                "path_display": folder,
            }
            for folder in sorted(folders)
        ]
        cursor = uuid.uuid4().hex
        state.cursors[cursor] = entries + found
        self._page(cursor)

    def _page(self, cursor: str) -> None:
        state = self.server.state
        remaining = state.cursors.pop(cursor, None)
        if remaining is None:
            self._route_error("reset/", {".tag": "reset"})
            return
        page, rest = remaining[: state.page_size], remaining[state.page_size :]
        next_cursor = uuid.uuid4().hex
        state.cursors[next_cursor] = rest
        self._reply(
            200, {"entries": page, "cursor": next_cursor, "has_more": bool(rest)}
        )

    def _content(self, path: str, arg: dict[str, Any], body: bytes) -> None:
        state = self.server.state
        if state.fail_uploads:
            self._reply(503, {"error_summary": "service unavailable"})
            return
        if path == "/2/files/upload":
            self._store(arg["path"], body)
        elif path == "/2/files/upload_session/start":
            session_id = uuid.uuid4().hex
            state.sessions[session_id] = bytearray(body)
            self._reply(200, {"session_id": session_id})
        elif path == "/2/files/upload_session/append_v2":
            self._append(arg["cursor"], body)
            self._reply(200, None)
        elif path == "/2/files/upload_session/finish":
            data = self._append(arg["cursor"], body)
            state.sessions.pop(arg["cursor"]["session_id"])
            self._store(arg["commit"]["path"], bytes(data))

    def _append(self, cursor: dict[str, Any], body: bytes) -> bytearray:
        data = self.server.state.sessions[cursor["session_id"]]
        if cursor["offset"] != len(data):
            raise ValueError("incorrect offset")
        data.extend(body)
        return data

    def _store(self, path_display: str, data: bytes) -> None:
        self.server.state.files[path_display.lower()] = (path_display, data)
        self._reply(200, _meta(path_display, data))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: DropboxState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class DropboxDouble:
    """The double running in a thread, and a requests session that reaches it."""

    def __init__(self, cert: Path, key: Path) -> None:
        """Serve HTTPS with ``cert``/``key`` on a free port of 127.0.0.1."""
        self.state = DropboxState()
        self.cert = cert
        self._server = _Server(self.state)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="dropbox-double", daemon=True
        )

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def session(self) -> requests.Session:
        """A session that sends Dropbox's hosts to the double, verifying TLS."""
        session = requests.Session()
        session.mount("https://", _ToDouble(self.port, self.cert))
        return session


class _ToDouble(HTTPAdapter):
    """Rewrites ``https://*.dropboxapi.com`` to the double, keeping the Host."""

    def __init__(self, port: int, cert: Path) -> None:
        super().__init__()
        self._port = port
        self._cert = cert

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> Any:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        if parts.hostname in (API_HOST, CONTENT_HOST):
            request.headers["Host"] = parts.hostname
            request.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{self._port}"))
            kwargs["verify"] = str(self._cert)  # the SDK passes verify=True
        return super().send(request, **kwargs)
