from __future__ import annotations

from collections.abc import Callable

from httpx import AsyncClient

from app import create_app
from tests.clients import asgi_client
from tests.redis_server import OwnRedis, free_port


async def test_healthz_answers_while_the_process_runs(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(client: AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


async def test_readyz_reports_a_stopped_redis(make_settings: Callable, own_redis: OwnRedis) -> None:
    app = create_app(make_settings(REDIS_URL=own_redis.url))
    async with asgi_client(app) as client:
        assert (await client.get("/readyz")).json()["checks"]["redis"] == "ok"
        own_redis.stop()
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["redis"].startswith("unreachable")
        assert response.json()["checks"]["database"] == "ok"
        own_redis.start()
        assert (await client.get("/readyz")).status_code == 200


async def test_unreachable_database_gets_503_with_retry_after(make_settings: Callable) -> None:
    dead = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app(make_settings(DATABASE_URL=dead))
    async with asgi_client(app) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"].startswith("unreachable")
        response = await client.post("/api/auth/login", json={"email": "a@example.test", "password": "x" * 12})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["type"] == "/problems/database_unavailable"


async def test_an_exhausted_connection_pool_answers_503_not_500(client: AsyncClient, app, monkeypatch) -> None:
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    async def no_connection(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    monkeypatch.setattr("kernel.auth.service.AccountService.login", no_connection)
    response = await client.post("/api/auth/login", json={"email": "a@example.test", "password": "x" * 12})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


async def test_a_timeout_without_a_message_still_answers_503(client: AsyncClient, monkeypatch) -> None:
    async def silent_timeout(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise TimeoutError

    monkeypatch.setattr("kernel.auth.service.AccountService.login", silent_timeout)
    response = await client.post("/api/auth/login", json={"email": "a@example.test", "password": "x" * 12})
    assert response.status_code == 503
