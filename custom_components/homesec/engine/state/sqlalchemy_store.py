"""SQLAlchemy async state store: SQLite (embedded default) and Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import Set as AbstractSet
from datetime import datetime
import logging
from pathlib import Path
from typing import Any

# Drivers are imported with this module (in an executor, by Home Assistant's
# loader) so that creating an engine never imports on the event loop.
import aiosqlite  # noqa: F401
import asyncpg  # noqa: F401
from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import (
    asyncpg as _pg_dialect,  # noqa: F401
    insert as pg_insert,
)
from sqlalchemy.dialects.sqlite import (
    aiosqlite as _sqlite_dialect,  # noqa: F401
    insert as sqlite_insert,
)
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from ..errors import StateStoreError
from ..interfaces import BlockingRunner, HistoryPruned, StateStore
from ..models import ClipEvent, ClipState
from ..text import count
from . import postgres_params
from .clean import clean_text, finite_json
from .pruning import prune_batch

_LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CONNECT_TIMEOUT = 5
NAME_CHARS = 255

# SQLSTATE classes of a refused value rather than an unreachable server: data
# exception, integrity constraint violation, program limit exceeded.
_REFUSED_SQLSTATE_CLASSES = ("22", "23", "54")

# Statements that bring a database from version N-1 to N, keyed by N. Tables and
# indexes that do not exist yet are created by ``create_all`` before migrating.
MIGRATIONS: dict[int, list[str]] = {}

metadata = MetaData()

clip_states = Table(
    "clip_states",
    metadata,
    Column("clip_id", String(NAME_CHARS), primary_key=True),
    Column("camera_name", String(NAME_CHARS), nullable=False),
    Column("status", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column(
        "updated_at",
        DateTime(timezone=True),
        server_default=func.now(),
        onupdate=func.now(),
    ),
    Index("ix_clip_states_status", "status"),
    Index("ix_clip_states_camera", "camera_name"),
)

clip_events = Table(
    "clip_events",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("clip_id", String(NAME_CHARS), nullable=False, index=True),
    Column("camera_name", String(NAME_CHARS), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("detail", JSON, nullable=False),
)

schema_info = Table(
    "homesec_schema",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)


def sqlite_url(path: Path) -> str:
    """The async SQLAlchemy URL of a SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _event_row(event: ClipEvent) -> dict[str, Any]:
    return {
        "clip_id": event.clip_id,
        "camera_name": clean_text(event.camera_name, NAME_CHARS),
        "event_type": event.event_type.value,
        "ts": event.ts,
        "detail": event.model_dump(mode="json")["detail"],
    }


def _causes(err: BaseException) -> list[BaseException]:
    """``err``, its causes and the driver errors SQLAlchemy wraps, in order."""
    found: list[BaseException] = []
    pending: list[BaseException | None] = [err]
    while pending:
        current = pending.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        pending += [
            current.__cause__,
            current.__context__,
            getattr(current, "orig", None),
        ]
    return found


def _check_not_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        msg = (
            f"the database has schema version {version}, newer than this "
            f"HomeSec ({SCHEMA_VERSION}); update HomeSec"
        )
        raise StateStoreError(msg)


class SQLAlchemyStateStore(StateStore):
    """``clip_states`` (one JSON document per clip) and ``clip_events``."""

    def __init__(self, url: str, run_blocking: BlockingRunner | None = None) -> None:
        """Connect to ``url`` on first use (Postgres settings resolved off-loop)."""
        self._url = url
        self._run = run_blocking
        self._engine: AsyncEngine | None = None
        self._unreadable: set[str] = set()

    def _parse(self, clip_id: str, data: Any) -> ClipState | None:
        """A stored state document, or None (logged once) when it is no state."""
        try:
            return ClipState.model_validate(data)
        except ValidationError as err:
            if clip_id not in self._unreadable:
                self._unreadable.add(clip_id)
                _LOGGER.warning(
                    "The stored state of clip %s cannot be read and is skipped "
                    "(%s, first: %s)",
                    clean_text(clip_id),
                    count(err.error_count(), "problem"),
                    clean_text(str(err.errors()[0]["msg"])),
                )
            return None

    @property
    def is_postgres(self) -> bool:
        """Whether the URL is a Postgres one."""
        return self._url.startswith("postgresql")

    async def _connect_engine(self) -> AsyncEngine:
        if self._engine is not None:
            return self._engine
        if self.is_postgres:
            if self._run is not None:
                url, args = await self._run(postgres_params.resolve, self._url)
            else:
                url, args = await asyncio.to_thread(postgres_params.resolve, self._url)
            args |= {"timeout": CONNECT_TIMEOUT, "command_timeout": 30}
            engine = create_async_engine(url, pool_pre_ping=True, connect_args=args)
        else:
            engine = create_async_engine(self._url)
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        self._engine = engine
        return engine

    def rejects_credentials(self, err: BaseException) -> bool:
        """Whether Postgres refused the user or password (SQLSTATE class 28)."""
        return any(
            str(getattr(cause, "sqlstate", "") or "").startswith("28")
            for cause in _causes(err)
        )

    def refuses(self, err: BaseException) -> bool:
        """Whether the database refused a value (the server itself answered).

        A value that cannot be serialised or encoded, a constraint or length
        the row breaks: writing the same row again fails again, whereas any
        other error (a connection, a timeout) may pass on a later try.
        """
        for cause in _causes(err):
            if isinstance(cause, (DataError, IntegrityError, ValueError, TypeError)):
                return True
            sqlstate = str(getattr(cause, "sqlstate", "") or "")
            if sqlstate.startswith(_REFUSED_SQLSTATE_CLASSES):
                return True
        return False

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine (after ``start``)."""
        if self._engine is None:
            raise StateStoreError("the state store was not started")
        return self._engine

    async def start(self) -> None:
        """Create the tables, or migrate them to ``SCHEMA_VERSION``."""
        try:
            engine = await self._connect_engine()
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
                version = (
                    await conn.execute(select(schema_info.c.version))
                ).scalar_one_or_none()
                if version is None:
                    await conn.execute(
                        insert(schema_info).values(id=1, version=SCHEMA_VERSION)
                    )
                    return
                _check_not_newer(version)
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[target]:
                        await conn.execute(text(statement))
                    await conn.execute(
                        update(schema_info)
                        .where(schema_info.c.id == 1)
                        .values(version=target)
                    )
        except StateStoreError:
            raise
        except Exception as err:
            raise StateStoreError(f"cannot prepare the state store: {err}") from err

    async def write(self, states: list[ClipState], events: list[ClipEvent]) -> None:
        """Upsert states and append events in one transaction."""
        async with self.engine.begin() as conn:
            for state in states:
                await conn.execute(self._upsert(state))
            if events:
                await conn.execute(
                    insert(clip_events), [_event_row(event) for event in events]
                )

    async def upsert_state(self, state: ClipState) -> None:
        """Insert or replace a clip's state document."""
        async with self.engine.begin() as conn:
            await conn.execute(self._upsert(state))

    def _upsert(self, state: ClipState) -> Any:
        values: dict[str, Any] = {
            "clip_id": state.clip_id,
            "camera_name": clean_text(state.camera_name, NAME_CHARS),
            "status": state.status.value,
            "data": finite_json(state.model_dump(mode="json")),
        }
        upsert = pg_insert if self.is_postgres else sqlite_insert
        return (
            upsert(clip_states)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[clip_states.c.clip_id],
                set_={**values, "updated_at": func.now()},
            )
        )

    async def append_event(self, event: ClipEvent) -> None:
        """Append one lifecycle event."""
        async with self.engine.begin() as conn:
            await conn.execute(insert(clip_events).values(**_event_row(event)))

    async def get_state(self, clip_id: str) -> ClipState | None:
        """Return a clip's state document, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(clip_states.c.data).where(clip_states.c.clip_id == clip_id)
                )
            ).scalar_one_or_none()
        return None if row is None else self._parse(clip_id, row)

    async def get_states(self, clip_ids: list[str]) -> dict[str, ClipState]:
        """Return the state documents of the clips that have one."""
        found: dict[str, ClipState] = {}
        async with self.engine.connect() as conn:
            for start in range(0, len(clip_ids), 500):
                rows = await conn.execute(
                    select(clip_states.c.clip_id, clip_states.c.data).where(
                        clip_states.c.clip_id.in_(clip_ids[start : start + 500])
                    )
                )
                for clip_id, data in rows:
                    if (state := self._parse(clip_id, data)) is not None:
                        found[clip_id] = state
        return found

    async def clip_ids(self, camera_name: str) -> list[str]:
        """Every clip id of a camera (cheap: no state documents are read)."""
        query = select(clip_states.c.clip_id).where(
            clip_states.c.camera_name == camera_name
        )
        async with self.engine.connect() as conn:
            return [clip_id for (clip_id,) in await conn.execute(query)]

    async def recent_states(
        self, camera_name: str | None, limit: int
    ) -> list[ClipState]:
        """The newest ``limit`` clip states (of one camera), newest first."""
        query = select(clip_states.c.clip_id, clip_states.c.data).order_by(
            clip_states.c.created_at.desc(), clip_states.c.clip_id.desc()
        )
        if camera_name is not None:
            query = query.where(clip_states.c.camera_name == camera_name)
        async with self.engine.connect() as conn:
            rows = await conn.execute(query.limit(limit))
            states = (self._parse(clip_id, data) for clip_id, data in rows)
            return [state for state in states if state is not None]

    async def prune_history(
        self,
        before: datetime,
        keep: AbstractSet[str],
        limit: int,
        progress: HistoryPruned,
    ) -> HistoryPruned:
        """Delete one batch of old history (one short transaction).

        ``before`` is in UTC: SQLite keeps times without their zone, as UTC.
        """
        async with self.engine.begin() as conn:
            return await prune_batch(
                conn,
                (clip_states, clip_events),
                before=before,
                keep=keep,
                limit=limit,
                progress=progress,
            )

    async def close(self) -> None:
        """Dispose of the engine and its connections."""
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
