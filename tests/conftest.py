"""Fixtures: an app per test on a fresh database, on SQLite by default or PostgreSQL + Redis for that leg.

`make test` runs the suite twice through `tests/legs.py`; the second leg sets LIVECOMMERCE_TEST_DATABASE_URL and
LIVECOMMERCE_TEST_REDIS_URL so the same tests run against PostgreSQL and Redis.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app import create_app
from kernel.clock import FixedClock
from kernel.db import metadata
from kernel.migrate import upgrade
from kernel.settings import Settings, load_settings
from tests.clients import asgi_client
from tests.postgres_server import OwnPostgres
from tests.postgres_server import available as postgres_available
from tests.redis_server import OwnRedis

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PG_URL = os.environ.get("LIVECOMMERCE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LIVECOMMERCE_TEST_REDIS_URL")
TEST_SECRET = "test-secret-key-that-is-long-enough-for-signing"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test copies it rather than migrating again."""
    path = tmp_path_factory.mktemp("template") / "livecommerce.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_pg() -> str | None:
    """The PostgreSQL test database exactly as the migrations leave it, whatever an earlier run left there."""
    if PG_URL:
        asyncio.run(_empty_schema(PG_URL))
        upgrade(PG_URL)
    return PG_URL


async def _empty_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def pg_seed_rows() -> dict[str, list[dict[str, Any]]]:
    """The rows the migrations insert (the starting categories), read before the first truncation."""
    return {}


@pytest.fixture
async def database_url(
    tmp_path: Path, sqlite_template: Path, migrated_pg: str | None, pg_seed_rows: dict[str, list[dict[str, Any]]]
) -> str:
    """A clean database for one test: a copied SQLite file, or the PostgreSQL test database truncated and given
    back the rows its migrations seeded, as the SQLite copy has them."""
    if not PG_URL:
        target = tmp_path / "livecommerce.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite+aiosqlite:///{target}"
    engine = create_async_engine(PG_URL)
    async with engine.begin() as conn:
        if not pg_seed_rows:  # the session's first test: the database is as the migrations left it
            for table in metadata.sorted_tables:
                pg_seed_rows[table.name] = [dict(row) for row in (await conn.execute(table.select())).mappings()]
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
        for table in metadata.sorted_tables:
            if rows := pg_seed_rows.get(table.name):
                await conn.execute(table.insert(), rows)
    await engine.dispose()
    return PG_URL


@pytest.fixture
async def redis_url() -> AsyncIterator[str | None]:
    if REDIS_URL:
        redis = Redis.from_url(REDIS_URL)
        await redis.flushdb()
        await redis.aclose()
    yield REDIS_URL


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str, redis_url: str | None) -> Callable[..., Settings]:
    """Settings for this test's database, with any LIVECOMMERCE_* variables overridden."""

    def make(**env: str) -> Settings:
        base = {
            "LIVECOMMERCE_DATA_DIR": str(tmp_path / "data"),
            "LIVECOMMERCE_SECRET_KEY": TEST_SECRET,
            "DATABASE_URL": database_url,
            "LIVECOMMERCE_LOGIN_RATE": "1000/minute",
            "LIVECOMMERCE_SIGNUP_RATE": "1000/minute",
            "LIVECOMMERCE_LOG_LEVEL": "WARNING",
            # Longer than every shop window, so moving the clock past a deadline keeps the test signed in.
            "LIVECOMMERCE_SESSION_TTL": "90d",
            # The cheapest argon2id: tests sign up hundreds of accounts (production keeps argon2's defaults).
            "LIVECOMMERCE_PASSWORD_TIME_COST": "1",
            "LIVECOMMERCE_PASSWORD_MEMORY_KIB": "1024",
        }
        if redis_url:
            base["REDIS_URL"] = redis_url
        return load_settings({**base, **env})

    return make


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def app(make_settings: Callable[..., Settings], clock: FixedClock) -> AsyncIterator[Litestar]:
    app = create_app(make_settings(), clock=clock)
    yield app
    # Tests that never start the app still opened connections; closing them here, in the loop that opened them,
    # keeps aiosqlite's worker threads from calling into a closed loop later.
    await app.state.db.dispose()


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as client:
        yield client


def chromium_path() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="session")
def chromium() -> Iterator[str]:
    """Debian's Chromium; a missing browser skips the test, or fails it when REQUIRE_BROWSER=1."""
    path = chromium_path()
    if path is None:
        message = "Chromium is not installed (apt-get install -y chromium); browser tests need it"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    yield path


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A private redis-server a test may stop; skipped where none is installed unless REQUIRE_SERVICES=1."""
    try:
        server = OwnRedis(tmp_path)
    except FileNotFoundError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("redis-server is not installed (apt-get install -y redis-server)")
        pytest.skip("redis-server is not installed; this test starts and stops its own Redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A private PostgreSQL a test may stop and start, migrated; skipped where the server binaries are missing
    unless REQUIRE_SERVICES=1."""
    if not postgres_available():
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("PostgreSQL's server binaries are not installed (apt-get install -y postgresql)")
        pytest.skip("PostgreSQL's server binaries are not installed; this test starts and stops its own")
    server = OwnPostgres()
    server.start()
    upgrade(server.url)
    yield server
    server.remove()
