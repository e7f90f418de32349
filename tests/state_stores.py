"""Real state stores for tests: a SQLite file or a fresh Postgres database."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from custom_components.homesec.engine.state.sqlalchemy_store import (
    SQLAlchemyStateStore,
    sqlite_url,
)

from .servers import Postgres

DATABASES = ["sqlite", "postgres"]


async def fresh_database(server: Postgres) -> str:
    """Create an empty database on ``server``; return its URL."""
    name = f"homesec_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server.dsn, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return server.dsn.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=DATABASES)
async def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_server: Postgres,
    socket_enabled: None,
) -> AsyncGenerator[SQLAlchemyStateStore]:
    """A started state store on a real SQLite file or a real Postgres database."""
    url = sqlite_url(tmp_path / "homesec.db")
    if request.param == "postgres":
        url = await fresh_database(postgres_server)
    store = SQLAlchemyStateStore(url)
    await store.start()
    yield store
    await store.close()
