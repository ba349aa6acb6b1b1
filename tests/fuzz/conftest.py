"""A live server of the fuzzers' own, the demo accounts signed in by role, and the seed and figures at the end.

On the PostgreSQL + Redis leg the server gets a database made for it (the test database's name + ``_live``) and a
Redis db of its own (LIVECOMMERCE_FUZZ_REDIS_DB, 11 unless set), so it shares no state with the in-process tests,
which empty the test database between tests, nor with the browser journeys' server (db 10).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from redis import Redis

from demo import DEMO_PASSWORD
from tests.e2e.server import LiveServer
from tests.fuzz import mode
from tests.fuzz.figures import FIGURES
from tests.fuzz.roles import ROLE_EMAILS

# Fuzzers sign in and sign up far faster than a person: the limits are tested elsewhere.
UNLIMITED = {"LIVECOMMERCE_LOGIN_RATE": "1000000/minute", "LIVECOMMERCE_SIGNUP_RATE": "1000000/minute"}


@dataclass(frozen=True)
class FuzzServer:
    base_url: str
    server: LiveServer

    def token(self, role: str) -> str:
        """A fresh bearer token of the demo account with ``role`` (fresh: a fuzzer may log an earlier one out)."""
        login = httpx.post(
            f"{self.base_url}/api/auth/login", json={"email": ROLE_EMAILS[role], "password": DEMO_PASSWORD}, timeout=30
        )
        assert login.status_code == 200, login.text
        return login.json()["token"]


def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


async def _recreate(admin_dsn: str, name: str, *, create: bool) -> None:
    conn = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    """A migrated ``livecommerce serve`` with the demo data, on SQLite or, on that leg, PostgreSQL + Redis."""
    pg_url = os.environ.get("LIVECOMMERCE_TEST_DATABASE_URL")
    redis_url = os.environ.get("LIVECOMMERCE_TEST_REDIS_URL")
    database_url = server_redis = admin_dsn = database = None
    if pg_url:
        database = urlsplit(pg_url).path.lstrip("/") + "_live"
        admin_dsn = _with_path(pg_url.replace("postgresql+asyncpg://", "postgresql://", 1), "/postgres")
        asyncio.run(_recreate(admin_dsn, database, create=True))
        database_url = _with_path(pg_url, f"/{database}")
    if redis_url:
        server_redis = _with_path(redis_url, f"/{int(os.environ.get('LIVECOMMERCE_FUZZ_REDIS_DB', '11'))}")
        with Redis.from_url(server_redis) as redis:
            redis.flushdb()
    data_dir = tmp_path_factory.mktemp("fuzz-server")
    try:
        with LiveServer(data_dir, database_url=database_url, redis_url=server_redis, env=UNLIMITED) as server:
            yield FuzzServer(server.base_url, server)
    finally:
        if admin_dsn and database:
            asyncio.run(_recreate(admin_dsn, database, create=False))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section(f"fuzz ({'full run' if mode.FULL else 'short slice'})")
    terminalreporter.write_line(f"seed: {mode.SEED}  (replay with FUZZ_SEED={mode.SEED})")
    for part, summary in FIGURES.items():
        terminalreporter.write_line(f"{part}: {summary}")
