"""Two ``livecommerce serve`` processes on one Redis share a room: chat, likes and the viewer count cross over.

Runs on the PostgreSQL + Redis leg. On the SQLite leg it is skipped, unless REQUIRE_SERVICES=1, when it runs on
the SQLite file and a Redis of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import PG_URL, REDIS_URL, TEST_SECRET
from tests.e2e.server import HOST, ROOT, free_port, livecommerce_command, wait_until_healthy
from tests.factories import PASSWORD, unique_email


@pytest.fixture
def shared_redis(request: pytest.FixtureRequest) -> str:
    if PG_URL and REDIS_URL:
        return request.getfixturevalue("redis_url")
    if os.environ.get("REQUIRE_SERVICES") != "1":
        pytest.skip("two app processes share a room on the PostgreSQL + Redis leg")
    return request.getfixturevalue("own_redis").url


@contextmanager
def serving(tmp_path: Path, database_url: str, redis_url: str) -> Iterator[tuple[str, str]]:
    """Two app processes on one database and one Redis; their base URLs."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIVECOMMERCE_") and k not in ("DATABASE_URL",)},
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LIVECOMMERCE_DATA_DIR": str(tmp_path / "data"),
        "LIVECOMMERCE_SECRET_KEY": TEST_SECRET,
        "LIVECOMMERCE_LOG_LEVEL": "WARNING",
        "LIVECOMMERCE_SIGNUP_RATE": "1000/minute",
        "LIVECOMMERCE_LOGIN_RATE": "1000/minute",
        "LIVECOMMERCE_PASSWORD_TIME_COST": "1",
        "LIVECOMMERCE_PASSWORD_MEMORY_KIB": "1024",
    }
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"server-{port}.log" for port in ports]
    processes = []
    try:
        for port, log in zip(ports, logs, strict=True):
            with log.open("wb") as out:
                command = [livecommerce_command(), "serve", "--host", HOST, "--port", str(port)]
                processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
        urls = [f"http://{HOST}:{port}" for port in ports]
        for process, url, log in zip(processes, urls, logs, strict=True):
            wait_until_healthy(process, url, log)
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _account(http: httpx.AsyncClient, role: str) -> str:
    email = unique_email(role)
    body = {"email": email, "password": PASSWORD, "display_name": f"Two {role}", "roles": [role]}
    assert (await http.post("/api/auth/signup", json=body)).status_code == 201
    http.cookies.clear()  # an API client: bearer tokens, no session cookie (which would need a CSRF token)
    response = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    http.cookies.clear()
    return response.json()["token"]


async def _room(http: httpx.AsyncClient) -> str:
    seller = await _account(http, "seller")
    product = await http.post(
        "/api/shop/products",
        headers={"Authorization": f"Bearer {seller}"},
        json={"title": "Tote", "category": "fashion", "price": {"amount_minor": 2400, "currency": "USD"}, "stock": 9},
    )
    assert product.status_code == 201, product.text
    host = await _account(http, "influencer")
    room = await http.post(
        "/api/live/rooms",
        headers={"Authorization": f"Bearer {host}"},
        json={"title": "Two workers", "product_ids": [product.json()["id"]]},
    )
    assert room.status_code == 201, room.text
    return room.json()["id"]


@asynccontextmanager
async def channel(base_url: str, room_id: str, token: str | None = None) -> AsyncIterator[ClientConnection]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    url = base_url.replace("http://", "ws://") + f"/live/rooms/{room_id}/ws"
    async with connect(url, additional_headers=headers, compression=None, proxy=None) as socket:
        yield socket


async def next_event(socket: ClientConnection, kind: str, **match: Any) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            frame = json.loads(await socket.recv())
            for event in frame if isinstance(frame, list) else [frame]:
                if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                    return event


async def test_a_message_sent_to_one_process_reaches_clients_of_the_other(
    tmp_path: Path, database_url: str, shared_redis: str
) -> None:
    with serving(tmp_path, database_url, shared_redis) as (first, second):
        async with httpx.AsyncClient(base_url=first, trust_env=False) as http:
            room_id = await _room(http)
            fan = await _account(http, "buyer")
        async with channel(first, room_id, fan) as sender, channel(second, room_id) as watcher:
            await next_event(sender, "viewers")
            await next_event(watcher, "viewers")
            # Each process counts its own socket; both see the room's total.
            await next_event(watcher, "viewers", count=2)
            await next_event(sender, "viewers", count=2)

            await sender.send(json.dumps({"type": "chat", "text": "hello from the first worker"}))
            message = await next_event(watcher, "chat")
            assert message["text"] == "hello from the first worker"

            await sender.send(json.dumps({"type": "like"}))
            await next_event(watcher, "likes", count=1)

        # Browsers always offer per-message compression; the server declines it (it costs more than fan-out).
        url = first.replace("http://", "ws://") + f"/live/rooms/{room_id}/ws"
        async with connect(url, compression="deflate", proxy=None) as offered:
            assert offered.protocol.extensions == []
            assert "sec-websocket-extensions" not in offered.response.headers
