"""The event bus: domains publish data events on topics; subscribers on every worker receive them.

Built on Litestar Channels: the memory backend in one process, Redis pub/sub when ``REDIS_URL`` is set so that
every worker and node shares the same topics.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncGenerator, Iterable
from functools import partial
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel import hooks

log = logging.getLogger("livecommerce.bus")

# A slow subscriber keeps at most this many undelivered events and loses the oldest first.
SUBSCRIBER_BACKLOG = 1000
_TOPIC_PART = re.compile(r"^[a-z0-9_-]+$")
_encoder = msgspec.json.Encoder()


def topic(kind: str, key: object) -> str:
    """The topic for one thing, e.g. ``topic("room", room.id)`` → ``room:0192…``.

    Topic names are lower case: the Redis backends upper-case channel names, so mixed case would collide.
    """
    name = str(key).lower()
    if not (_TOPIC_PART.match(kind) and _TOPIC_PART.match(name)):
        raise ValueError(f"topic parts must be lower-case letters, digits, - or _: {kind!r}, {name!r}")
    return f"{kind}:{name}"


class ReconnectingRedisPubSubBackend(RedisChannelsPubSubBackend):
    """Channels' Redis pub/sub backend whose event stream survives a Redis restart.

    Litestar's own stream ends on the first connection error and never restarts, which leaves every subscriber
    silent while health checks pass. Here the error is logged and the stream resumes; redis-py re-subscribes
    the pub/sub connection's channels when it reconnects.
    """

    retry_delay = 0.5

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        # An exception here would end Channels' publishing task for good (and hang shutdown on its queue), so a
        # Redis outage loses these events instead: the bus carries live notifications; the database is the truth.
        try:
            await super().publish(data, channels)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            log.warning("bus.publish_lost", extra={"error": str(exc), "channels": list(channels)})

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        while True:
            try:
                async for item in super().stream_events():
                    yield item
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("bus.redis_lost", extra={"error": str(exc), "retry_in_s": self.retry_delay})
                await asyncio.sleep(self.retry_delay)


def channels_plugin(redis: Redis | None) -> ChannelsPlugin:
    backend = ReconnectingRedisPubSubBackend(redis=redis) if redis is not None else MemoryChannelsBackend()
    return ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        subscriber_max_backlog=SUBSCRIBER_BACKLOG,
        subscriber_backlog_strategy="dropleft",
    )


def publish(channels: ChannelsPlugin, topic_name: str, event: msgspec.Struct) -> None:
    """Encode ``event`` once and queue it for every subscriber of ``topic_name`` (returns at once)."""
    channels.publish(_encoder.encode(event), topic_name)


class Bus:
    """What services publish through; ``after_commit`` holds an event until the database agrees it happened."""

    def __init__(self, channels: ChannelsPlugin) -> None:
        self.channels = channels

    def publish(self, topic_name: str, event: msgspec.Struct) -> None:
        publish(self.channels, topic_name, event)

    def after_commit(self, session: AsyncSession, topic_name: str, event: msgspec.Struct) -> None:
        """Publish ``event`` once ``session``'s transaction commits; drop it if the transaction rolls back."""
        hooks.after_commit(session, partial(self.publish, topic_name, event))
