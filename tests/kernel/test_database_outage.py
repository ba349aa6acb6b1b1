"""While PostgreSQL shuts down, is down or starts up, requests answer 503 with Retry-After, never 500, and the
same requests succeed once it is back (each runs against a PostgreSQL server of the test's own)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncpg
import pytest
from httpx import AsyncClient

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from tests.clients import asgi_client
from tests.factories import bearer, login, signed_in
from tests.postgres_server import OwnPostgres
from tests.shop.helpers import ADDRESS, new_key

pytestmark = pytest.mark.services


async def _requests(client: AsyncClient, token: str, unseen_token: str) -> list[tuple[str, int, str | None]]:
    """A read signed out, a signed-in read of the database, a token this worker has not seen (looked up in the
    database, not its cache) and a checkout."""
    answers = [
        await client.get("/api/shop/products"),
        await client.get("/api/shop/orders", headers=bearer(token)),
        await client.get("/api/me", headers=bearer(unseen_token)),
        await client.post(
            "/api/shop/checkout",
            headers={**bearer(token), "Idempotency-Key": new_key()},
            json={
                "items": [{"product_id": "0195c3a4-0000-7000-8000-000000000000", "quantity": 1}],
                "shipping_address": ADDRESS,
                "payment": {"method": "sandbox", "token": "tok_ok"},
            },
        ),
    ]
    return [(str(r.request.url.path), r.status_code, r.headers.get("retry-after")) for r in answers]


async def test_shutdown_downtime_and_restart_answer_503_with_retry_after(
    own_postgres: OwnPostgres, make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    app = create_app(make_settings(DATABASE_URL=own_postgres.url), clock=clock)
    async with asgi_client(app) as client:
        user, token = await signed_in(client)
        unseen = await login(client, user["email"])
        assert (await client.get("/api/me", headers=bearer(token))).status_code == 200

        # A smart shutdown waits for this client, refusing every new connection meanwhile ("shutting down").
        lingering = await asyncpg.connect(own_postgres.dsn)
        own_postgres.stop("smart", wait=False)
        await app.state.db.engine.dispose()  # the app's pooled connections are gone: it must connect anew
        for path, status, retry_after in await _requests(client, token, unseen):
            assert (status, retry_after) == (503, "1"), path
        # Who a token belongs to was cached when it was last used: a request that needs nothing else still answers.
        assert (await client.get("/api/me", headers=bearer(token))).status_code == 200

        await lingering.close()
        await asyncio.to_thread(own_postgres.stop, "fast")  # ends the shutdown whoever else is still connected
        for path, status, retry_after in await _requests(client, token, unseen):
            assert (status, retry_after) == (503, "1"), path

        await asyncio.to_thread(own_postgres.start)
        answers = await _requests(client, token, unseen)
        assert [status for _, status, _ in answers] == [200, 200, 200, 422], answers  # 422: no such product
    await app.state.db.dispose()
