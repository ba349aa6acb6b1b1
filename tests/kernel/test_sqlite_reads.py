"""On SQLite, requests that only read neither wait for nor take the one write lock."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from httpx import AsyncClient
from litestar import Litestar

from kernel.db import is_sqlite
from tests.factories import bearer, login, signed_in


@contextmanager
def another_writer(url: str) -> Iterator[None]:
    """Another process's writer holding SQLite's write lock while the block runs."""
    # Waits its turn like any writer: the app's own background work may hold the lock for a moment.
    holder = sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None, timeout=15)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


async def test_reads_are_answered_while_another_writer_holds_the_lock(client: AsyncClient, app: Litestar) -> None:
    if not is_sqlite(app.state.db.url):
        pytest.skip("SQLite only: PostgreSQL readers never wait for writers")
    user, _ = await signed_in(client)
    unseen = await login(client, user["email"])  # never used yet: looked up in the database, under the lock
    with another_writer(app.state.db.url):
        async with asyncio.timeout(5):  # a request that took the write lock would wait out the 15 s busy timeout
            assert (await client.get("/api/shop/products")).status_code == 200
            assert (await client.get("/api/shop/orders", headers=bearer(unseen))).status_code == 200
            assert (await client.get("/")).status_code == 200
