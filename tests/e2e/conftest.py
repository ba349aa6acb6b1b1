"""Browser journeys against a real server: one ``livecommerce serve`` per session, a fresh browser context per test.

On the PostgreSQL + Redis leg the server gets a database of its own (``livecommerce_e2e``) and Redis db 10, so it
never shares state with the in-process tests that truncate the test database between tests.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from redis import Redis

from tests.e2e import audit
from tests.e2e.server import CHROMIUM_ARGS, LiveServer

E2E_DATABASE = "livecommerce_e2e"
E2E_REDIS_DB = 10


def _run_async(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` on a loop of its own, whatever loop Playwright may hold in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


async def _recreate_database(admin_dsn: str, name: str, *, create: bool) -> None:
    conn = await asyncpg.connect(admin_dsn, timeout=5)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if create:
            await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a migrated server with the demo accounts, on SQLite or, on that leg, PostgreSQL + Redis."""
    pg_url = os.environ.get("LIVECOMMERCE_TEST_DATABASE_URL")
    redis_url = os.environ.get("LIVECOMMERCE_TEST_REDIS_URL")
    database_url = server_redis = admin_dsn = None
    if pg_url:
        admin_dsn = _with_path(pg_url.replace("postgresql+asyncpg://", "postgresql://", 1), "/postgres")
        _run_async(_recreate_database(admin_dsn, E2E_DATABASE, create=True))
        database_url = _with_path(pg_url, f"/{E2E_DATABASE}")
    if redis_url:
        server_redis = _with_path(redis_url, f"/{E2E_REDIS_DB}")
        with Redis.from_url(server_redis) as redis:
            redis.flushdb()
    try:
        with LiveServer(tmp_path_factory.mktemp("e2e-data"), database_url=database_url, redis_url=server_redis) as srv:
            yield srv.base_url
    finally:
        if admin_dsn:
            _run_async(_recreate_database(admin_dsn, E2E_DATABASE, create=False))


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """Chromium for one module; closed after it, since sync Playwright holds an event loop while it runs."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh context (no cookies), with relative URLs resolved against the live server."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


audited = audit.audited  # every journey's page at the phone and the desktop width (tests/e2e/audit.py)
