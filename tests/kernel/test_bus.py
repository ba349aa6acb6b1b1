"""The event bus: publish on one side, receive on every subscriber, survive a Redis restart."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import msgspec
import pytest
from httpx import AsyncClient
from litestar.channels import ChannelsPlugin

from app import create_app
from kernel import bus
from tests.clients import asgi_client
from tests.redis_server import OwnRedis


class Ping(msgspec.Struct, tag="test.ping"):
    n: int


async def _next_event(subscriber, within: float = 5.0) -> Ping:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(within):
        async for event in subscriber.iter_events():
            return msgspec.json.decode(event, type=Ping)
    raise AssertionError("subscription ended")


def test_topics_are_lower_case_and_checked() -> None:
    assert bus.topic("room", "0192ABCD") == "room:0192abcd"
    with pytest.raises(ValueError, match="topic parts"):
        bus.topic("room", "a b")


async def test_a_published_event_reaches_subscribers(client: AsyncClient, app) -> None:
    channels = app.plugins.get(ChannelsPlugin)
    topic = bus.topic("test", "one")
    async with channels.start_subscription([topic]) as first, channels.start_subscription([topic]) as second:
        await asyncio.sleep(0.05)  # let the Redis backend confirm the subscription
        bus.publish(channels, topic, Ping(1))
        assert await _next_event(first) == Ping(1)
        assert await _next_event(second) == Ping(1)


async def test_two_app_processes_on_one_redis_share_topics(make_settings: Callable) -> None:
    settings = make_settings()
    if settings.redis_url is None:
        pytest.skip("runs on the PostgreSQL + Redis leg: needs a shared Redis")
    one, two = create_app(settings), create_app(settings)
    async with asgi_client(one), asgi_client(two):
        topic = bus.topic("test", "shared")
        async with two.plugins.get(ChannelsPlugin).start_subscription([topic]) as subscriber:
            await asyncio.sleep(0.1)
            bus.publish(one.plugins.get(ChannelsPlugin), topic, Ping(7))
            assert await _next_event(subscriber) == Ping(7)


async def test_subscribers_hear_events_again_after_redis_restarts(make_settings: Callable, own_redis: OwnRedis) -> None:
    app = create_app(make_settings(REDIS_URL=own_redis.url))
    async with asgi_client(app):
        channels = app.plugins.get(ChannelsPlugin)
        topic = bus.topic("test", "restart")
        async with channels.start_subscription([topic]) as subscriber:
            await asyncio.sleep(0.1)
            bus.publish(channels, topic, Ping(1))
            assert await _next_event(subscriber) == Ping(1)

            own_redis.stop()
            await asyncio.sleep(1.0)  # the stream notices the loss
            own_redis.start()

            # Publishing retries until the subscriber's connection is back; each attempt may be lost in between.
            deadline = asyncio.get_running_loop().time() + 10
            received = None
            while received is None and asyncio.get_running_loop().time() < deadline:
                try:
                    bus.publish(channels, topic, Ping(2))
                    received = await _next_event(subscriber, within=0.5)
                except TimeoutError:
                    continue
            assert received == Ping(2)


async def test_readyz_names_the_bus_until_it_has_subscribed_again(make_settings: Callable, own_redis: OwnRedis) -> None:
    app = create_app(make_settings(REDIS_URL=own_redis.url))
    async with asgi_client(app) as client:
        channels = app.plugins.get(ChannelsPlugin)
        async with channels.start_subscription([bus.topic("test", "ready")]):
            await asyncio.sleep(0.1)
            assert (await client.get("/readyz")).json()["checks"]["bus"] == "ok"

            own_redis.stop()
            await asyncio.sleep(0.3)  # the stream notices the loss at once: the server closed its connection
            response = await client.get("/readyz")
            assert response.status_code == 503
            assert response.json()["checks"]["bus"].startswith("reconnecting")

            own_redis.start()
            deadline = asyncio.get_running_loop().time() + 2
            while (await client.get("/readyz")).status_code != 200:
                assert asyncio.get_running_loop().time() < deadline, "the bus did not reconnect within 2 s"
                await asyncio.sleep(0.05)


async def test_events_published_while_redis_is_away_arrive_once_it_is_back(
    make_settings: Callable, own_redis: OwnRedis
) -> None:
    app = create_app(make_settings(REDIS_URL=own_redis.url))
    async with asgi_client(app):
        channels = app.plugins.get(ChannelsPlugin)
        topic = bus.topic("test", "held")
        async with channels.start_subscription([topic]) as subscriber:
            await asyncio.sleep(0.1)
            own_redis.stop()
            await asyncio.sleep(0.3)
            for n in (1, 2, 3):
                bus.publish(channels, topic, Ping(n))
            await asyncio.sleep(0.3)
            own_redis.start()
            assert [await _next_event(subscriber, within=3.0) for _ in range(3)] == [Ping(1), Ping(2), Ping(3)]
