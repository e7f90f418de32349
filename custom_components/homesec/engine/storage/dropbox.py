"""Dropbox storage through the official SDK, run in an executor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
import hashlib
import logging
from pathlib import Path
import threading
from urllib.parse import quote

import dropbox
from dropbox import files as dbx_files
from dropbox.exceptions import ApiError, AuthError, DropboxException
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
import requests

from ..errors import CredentialsRejected
from ..interfaces import BlockingRunner, Storage, StoredCopy
from ..models import Clip, UploadOutcome

_LOGGER = logging.getLogger(__name__)

WEB_HOME = "https://www.dropbox.com/home"


class DropboxSettings(BaseModel):
    """Where and how to reach Dropbox (refresh token, or a plain access token)."""

    model_config = ConfigDict(frozen=True)

    root: str = "/HomeSec"
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    app_key: str | None = None
    app_secret: SecretStr | None = None
    chunk_size: int = Field(default=8 * 1024 * 1024, ge=1024)
    timeout: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _credentials(self) -> DropboxSettings:
        if self.refresh_token is None and self.access_token is None:
            msg = "Dropbox needs a refresh token (with app key) or an access token"
            raise ValueError(msg)
        if self.refresh_token is not None and not self.app_key:
            msg = "a Dropbox refresh token needs the app key"
            raise ValueError(msg)
        return self

    def path_for(self, camera_name: str, file_name: str) -> str:
        """``{root}/{camera}/{clip}`` in Dropbox."""
        return f"/{self.root.strip('/')}/{camera_name}/{file_name}"


def view_url(path_display: str) -> str:
    """The Dropbox web page showing a stored file."""
    folder, _, name = path_display.rpartition("/")
    return f"{WEB_HOME}{quote(folder)}?preview={quote(name)}"


class DropboxStorage(Storage):
    """Uploads clips to ``{root}/{camera}/{clip}``; re-uploads are no-ops."""

    def __init__(
        self,
        settings: DropboxSettings,
        run_blocking: BlockingRunner,
        session_factory: Callable[[], requests.Session] | None = None,
    ) -> None:
        """Keep the settings; the SDK client is made on first use, off the loop."""
        self._settings = settings
        self._run = run_blocking
        self._session_factory = session_factory
        self._client: dropbox.Dropbox | None = None
        self._lock = threading.Lock()

    def _dropbox(self) -> dropbox.Dropbox:
        with self._lock:
            if self._client is None:
                s = self._settings
                self._client = dropbox.Dropbox(
                    oauth2_access_token=(
                        s.access_token.get_secret_value() if s.access_token else None
                    ),
                    oauth2_refresh_token=(
                        s.refresh_token.get_secret_value() if s.refresh_token else None
                    ),
                    app_key=s.app_key,
                    app_secret=(
                        s.app_secret.get_secret_value() if s.app_secret else None
                    ),
                    timeout=s.timeout,
                    # The pipeline retries with its own bounded backoff.
                    max_retries_on_error=0,
                    max_retries_on_rate_limit=2,
                    session=self._session_factory() if self._session_factory else None,
                )
            return self._client

    async def put(self, clip: Clip) -> UploadOutcome:
        """Upload the clip (in chunks when large) unless it is already there."""
        return await self._run(self._put, clip.local_path, clip.camera_name)

    def _put(self, local: Path, camera_name: str) -> UploadOutcome:
        try:
            return self._upload(local, camera_name)
        except AuthError as err:
            raise _rejected(err) from err

    def _upload(self, local: Path, camera_name: str) -> UploadOutcome:
        client = self._dropbox()
        path = self._settings.path_for(camera_name, local.name)
        size = local.stat().st_size
        existing = _metadata(client, path)
        if isinstance(existing, dbx_files.FileMetadata):
            if existing.size == size and existing.content_hash == content_hash(local):
                return _outcome(existing)  # stored before (a retry, a restart)
            msg = (
                f"a different clip is already stored as {local.name}; "
                "it is kept (the alert goes out without a link)"
            )
            raise FileExistsError(msg)
        # Never replaces a file: one that appeared meanwhile is a conflict.
        mode = dbx_files.WriteMode.add
        chunk = self._settings.chunk_size
        with local.open("rb") as handle:
            if size <= chunk:
                meta = client.files_upload(handle.read(), path, mode=mode)
            else:
                start = client.files_upload_session_start(handle.read(chunk))
                cursor = dbx_files.UploadSessionCursor(
                    session_id=start.session_id, offset=handle.tell()
                )
                while size - handle.tell() > chunk:
                    client.files_upload_session_append_v2(handle.read(chunk), cursor)
                    cursor.offset = handle.tell()
                meta = client.files_upload_session_finish(
                    handle.read(),
                    cursor,
                    dbx_files.CommitInfo(path=path, mode=mode),
                )
        return _outcome(meta)

    async def delete(self, camera_name: str, file_name: str) -> None:
        """Delete a stored clip; a clip that is not there is fine."""
        await self._run(self._delete, self._settings.path_for(camera_name, file_name))

    def _delete(self, path: str) -> None:
        try:
            self._dropbox().files_delete_v2(path)
        except ApiError as err:
            if not _not_found(err):
                raise

    async def stored(self) -> list[StoredCopy]:
        """Every clip file in ``{root}/{camera}/`` (all pages of the listing)."""
        return await self._run(self._stored)

    def _stored(self) -> list[StoredCopy]:
        client = self._dropbox()
        root = self._settings.root.strip("/")
        try:
            page = client.files_list_folder(f"/{root}" if root else "", recursive=True)
        except AuthError as err:
            raise _rejected(err) from err
        except ApiError as err:
            if _not_found(err):
                return []  # nothing stored yet
            raise
        found = [copy for copy in map(_copy, page.entries) if copy]
        while page.has_more:
            page = client.files_list_folder_continue(page.cursor)
            found += [copy for copy in map(_copy, page.entries) if copy]
        depth = (root.count("/") + 1 if root else 0) + 2  # {root}/{camera}/{file}
        return [c for c in found if c.uri.count("/") == depth]

    async def delete_stored(self, copy: StoredCopy) -> None:
        """Delete one stored clip file (one already gone is fine)."""
        await self._run(self._delete, copy.uri.removeprefix("dropbox:"))

    async def temporary_link(self, storage_uri: str) -> str | None:
        """Dropbox's link to the file itself (valid four hours); None on failure."""
        if not storage_uri.startswith("dropbox:"):
            return None
        return await self._run(self._temporary_link, storage_uri.split(":", 1)[1])

    def _temporary_link(self, path: str) -> str | None:
        try:
            return str(self._dropbox().files_get_temporary_link(path).link)
        except (DropboxException, requests.RequestException) as err:
            _LOGGER.info("No temporary link for %s: %s", path, type(err).__name__)
            return None

    async def ping(self) -> bool:
        """Whether Dropbox answers; CredentialsRejected when it refuses them."""
        return await self._run(self._ping)

    def _ping(self) -> bool:
        try:
            self._dropbox().check_user("homesec")
        except AuthError as err:
            raise _rejected(err) from err
        except Exception:  # noqa: BLE001 - any other failure means unreachable
            return False
        return True

    async def close(self) -> None:
        """Close the SDK's HTTP session."""
        if self._client is not None:
            client, self._client = self._client, None
            await self._run(client.close)


def _rejected(err: AuthError) -> CredentialsRejected:
    tag = getattr(err.error, "_tag", None) or "invalid credentials"
    return CredentialsRejected("dropbox", f"Dropbox refused the credentials ({tag})")


def _metadata(client: dropbox.Dropbox, path: str) -> object | None:
    try:
        meta: object = client.files_get_metadata(path)
    except ApiError as err:
        if _not_found(err):
            return None
        raise
    return meta


def _not_found(err: ApiError) -> bool:
    error = err.error
    lookup = None
    if hasattr(error, "is_path") and error.is_path():
        lookup = error.get_path()
    elif hasattr(error, "is_path_lookup") and error.is_path_lookup():
        lookup = error.get_path_lookup()
    return lookup is not None and lookup.is_not_found()


def _copy(entry: object) -> StoredCopy | None:
    if not isinstance(entry, dbx_files.FileMetadata) or not entry.path_display:
        return None
    folder = entry.path_display.rsplit("/", 2)
    return StoredCopy(
        camera_name=folder[-2] if len(folder) == 3 else "",
        name=entry.name,
        size=entry.size,
        modified=entry.server_modified.replace(tzinfo=UTC),
        uri=f"dropbox:{entry.path_display}",
    )


def _outcome(meta: dbx_files.FileMetadata) -> UploadOutcome:
    path = meta.path_display or meta.path_lower or ""
    return UploadOutcome(storage_uri=f"dropbox:{path}", view_url=view_url(path))


HASH_BLOCK = 4 * 1024 * 1024


def content_hash(local: Path) -> str:
    """Dropbox's content hash of a file: SHA-256 of its 4 MiB blocks' SHA-256s."""
    digests = []
    with local.open("rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digests.append(hashlib.sha256(block).digest())
    if not digests:
        digests.append(hashlib.sha256(b"").digest())
    return hashlib.sha256(b"".join(digests)).hexdigest()
