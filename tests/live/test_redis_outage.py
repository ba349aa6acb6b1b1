"""The room channel while its Redis is down and once it is back: no chat silently lost, fan-out back within 2 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from tests.clients import asgi_client
from tests.factories import signed_in
from tests.live.helpers import live_room, make_creator, make_products
from tests.live.sockets import RoomSocket
from tests.redis_server import OwnRedis


def ws(room_id: str) -> str:
    return f"/live/rooms/{room_id}/ws"


@pytest.fixture
async def on_own_redis(
    make_settings: Callable[..., Settings], clock: FixedClock, own_redis: OwnRedis
) -> AsyncIterator[tuple[Litestar, AsyncClient]]:
    app = create_app(make_settings(REDIS_URL=own_redis.url, LIVECOMMERCE_CHAT_BURST="1000"), clock=clock)
    async with asgi_client(app) as client:
        yield app, client
    await app.state.db.dispose()


async def a_live_room(client: AsyncClient, app: Litestar) -> dict[str, Any]:
    _, host = await make_creator(client)
    return await live_room(client, app, host, await make_products(client))


async def answering(url: str) -> float:
    """Wait until the Redis at ``url`` answers a ping; the monotonic time it first did."""
    redis = Redis.from_url(url, socket_connect_timeout=0.2)
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    await redis.ping()
                    return time.monotonic()
                except RedisConnectionError:
                    await asyncio.sleep(0.01)
    finally:
        await redis.aclose()


async def test_chat_sent_while_redis_is_down_gets_an_error_frame_not_silence(
    on_own_redis: tuple[Litestar, AsyncClient], own_redis: OwnRedis
) -> None:
    app, client = on_own_redis
    room = await a_live_room(client, app)
    _, token = await signed_in(client)
    async with RoomSocket(app, ws(room["id"]), token) as sender, RoomSocket(app, ws(room["id"])) as watcher:
        await sender.frame()
        await watcher.frame()
        own_redis.stop()
        await sender.send({"type": "chat", "text": "anyone there?"})
        events = await sender.quiet(3.0)
        errors = [e for e in events if e["type"] == "error"]
        delivered = [e for e in events if e["type"] == "chat"]
        # Either the sender is told to try again, or the message still reaches the room: never neither.
        assert errors or delivered, events
        if errors:
            assert errors[0]["code"] == "chat_unavailable"
            assert errors[0]["retry_after"] >= 1
        own_redis.start()
        # The socket survived the outage: once Redis is back, chat flows again.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            await sender.send({"type": "chat", "text": "back?"})
            if any(e["type"] == "chat" and e["text"] == "back?" for e in await watcher.quiet(0.3)):
                break
        else:
            pytest.fail("chat did not come back after Redis did")


async def test_fan_out_to_existing_sockets_resumes_within_2_s_of_redis_answering(
    on_own_redis: tuple[Litestar, AsyncClient], own_redis: OwnRedis
) -> None:
    app, client = on_own_redis
    room = await a_live_room(client, app)
    _, token = await signed_in(client)
    async with RoomSocket(app, ws(room["id"]), token) as sender, RoomSocket(app, ws(room["id"])) as watcher:
        await sender.frame()
        await watcher.frame()
        await sender.send({"type": "chat", "text": "before"})
        await watcher.next_event("chat", text="before")

        own_redis.stop()
        # People keep liking and chatting through the outage (2 s: every retry and backoff comes into play).
        for n in range(20):
            await sender.send({"type": "like"} if n % 2 else {"type": "chat", "text": "during"})
            await asyncio.sleep(0.1)
        own_redis.start()
        back_at = await answering(own_redis.url)

        # A chat message every 100 ms from then on: the first to reach the watcher marks the fan-out's return.
        async def keep_sending() -> None:
            n = 0
            while True:
                n += 1
                await sender.send({"type": "chat", "text": f"after {n}"})
                await asyncio.sleep(0.1)

        sending = asyncio.create_task(keep_sending())
        try:
            while True:
                event = await watcher.next_event("chat", within=10.0)
                if event["text"].startswith("after"):
                    break
        finally:
            sending.cancel()
        recovery = time.monotonic() - back_at
        print(f"fan-out recovered {recovery:.2f} s after Redis answered")
        assert recovery < 2.0
