"""Signed-in requests answered from each worker's memory: no database round trip, and sign-out still immediate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from uuid import uuid4

import pytest
from httpx import AsyncClient
from litestar import Litestar
from sqlalchemy import event

from app import create_app
from kernel.auth.cache import Revoked, SignedInCache
from kernel.auth.guards import CurrentUser
from kernel.clock import FixedClock
from kernel.settings import Settings
from tests.clients import asgi_client
from tests.conftest import T0
from tests.factories import bearer, login, signed_in


@contextmanager
def statements(app: Litestar) -> Iterator[list[str]]:
    """The SQL statements ``app`` sends while the block runs."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_signed_in_request_after_the_first_needs_no_database(client: AsyncClient, app: Litestar) -> None:
    _, token = await signed_in(client)
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
    with statements(app) as sent:
        for _ in range(5):
            assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
    assert sent == []


async def test_sign_out_takes_effect_on_the_next_request(client: AsyncClient) -> None:
    _, token = await signed_in(client)
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401


async def test_a_cached_token_still_expires_on_time(client: AsyncClient, app: Litestar, clock: FixedClock) -> None:
    _, token = await signed_in(client)
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
    clock.advance(app.state.settings.auth.session_ttl + timedelta(seconds=1))
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401


async def test_with_the_cache_off_every_request_asks_the_database(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings(LIVECOMMERCE_AUTH_CACHE_TTL="0"), clock=FixedClock(T0))
    async with asgi_client(app) as client:
        _, token = await signed_in(client)
        await client.get("/api/me", headers=bearer(token))
        with statements(app) as sent:
            assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
        assert sent, "the token was looked up"


async def test_sign_out_on_one_worker_reaches_the_others(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    if settings.redis_url is None:
        pytest.skip("runs on the PostgreSQL + Redis leg: workers hear each other through Redis")
    one, two = create_app(settings), create_app(settings)
    async with asgi_client(one) as first, asgi_client(two) as second:
        user, token = await signed_in(first)
        other_token = await login(first, user["email"])
        for client in (first, second):  # both workers have cached both tokens
            for each in (token, other_token):
                assert (await client.get("/api/me", headers=bearer(each))).status_code == 200
        assert (await first.post("/api/auth/logout", headers=bearer(token))).status_code == 204
        deadline = time.monotonic() + 2.0
        while (await second.get("/api/me", headers=bearer(token))).status_code != 401:
            assert time.monotonic() < deadline, "the other worker still accepts a signed-out token after 2 s"
            await asyncio.sleep(0.02)
        assert (await second.get("/api/me", headers=bearer(other_token))).status_code == 200


class _Bus:
    problem: str | None = None


def test_while_the_bus_is_down_nothing_is_answered_from_memory() -> None:
    bus, user = _Bus(), CurrentUser(uuid4(), "a@example.test", "A", frozenset())
    cache = SignedInCache(30, FixedClock(T0), bus)  # type: ignore[arg-type]
    expires = T0 + timedelta(days=1)
    cache.put("h", user, expires)
    assert cache.get("h") == user

    bus.problem = "Redis is unreachable"  # revocations from other workers cannot arrive now
    assert cache.get("h") is None
    cache.put("h", user, expires)
    assert cache.get("h") is None

    bus.problem = None  # back: what was cached before the outage is forgotten (events may have been missed)
    assert cache.get("h") is None
    cache.put("h", user, expires)
    cache.forget(Revoked(user_id=user.id))
    assert cache.get("h") is None
