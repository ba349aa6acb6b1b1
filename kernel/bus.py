"""The event bus: domains publish data events on topics; subscribers on every worker receive them.

Built on Litestar Channels: the memory backend in one process, Redis pub/sub when ``REDIS_URL`` is set so that
every worker and node shares the same topics.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import deque
from collections.abc import AsyncGenerator, Iterable
from functools import partial
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel import hooks

log = logging.getLogger("livecommerce.bus")

# A slow subscriber keeps at most this many undelivered events and loses the oldest first.
SUBSCRIBER_BACKLOG = 1000
# Reconnection: the first retry comes soon, later ones back off to at most RETRY_CAP_S, so fan-out resumes within
# about that long of Redis answering again, without hammering a Redis that stays away.
RETRY_FIRST_S = 0.05
RETRY_CAP_S = 0.4
CONNECT_TIMEOUT_S = 1.0
# How long the stream waits for a message before looking at its connection again.
POLL_S = 1.0
# Events published while Redis is away wait for it, within these bounds (older ones are of no use to a live room).
HOLD_MAX = SUBSCRIBER_BACKLOG
HOLD_MAX_AGE_S = 30.0
_LOST = (RedisConnectionError, RedisTimeoutError, OSError)
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
    """Channels' Redis pub/sub backend that reconnects by itself within a second of Redis answering again.

    Litestar's own stream ends on the first connection error and never restarts, which leaves every subscriber
    silent while health checks pass. Here the stream owns its reconnection: it keeps the channels it was asked
    for, and after a loss opens a fresh pub/sub connection and subscribes to all of them, retrying with a backoff
    capped at ``RETRY_CAP_S``. redis-py's own retries are cut to one immediate attempt on these connections:
    theirs back off up to 1 s per try and nest (a read retries a connect that retries), which kept fan-out dark
    for seconds after Redis was back. ``problem`` says why events do not flow (None when they do), for
    ``/readyz`` and for chat to refuse rather than lose a message.

    Events published while Redis is away are held (at most ``HOLD_MAX``, each for at most ``HOLD_MAX_AGE_S``)
    and published in order once it answers: a chat message accepted just before the outage still reaches the
    room. Nothing waits on Redis meanwhile, so Channels' publishing queue never backs up behind it.
    """

    def __init__(self, *, redis: Redis) -> None:
        pool = redis.connection_pool
        quick = ConnectionPool(
            connection_class=pool.connection_class,
            **{**pool.connection_kwargs, "retry": Retry(NoBackoff(), 1), "socket_connect_timeout": CONNECT_TIMEOUT_S},
        )
        super().__init__(redis=Redis.from_pool(quick))
        self._wanted: set[str] = set()
        self._pubsub: PubSub | None = None
        # The connection is up and subscribed to everything wanted: only then do subscribe() and unsubscribe() use
        # it directly (two tasks opening one PubSub's connection at once would each get one, and doubled events).
        self._ready = False
        self._up = asyncio.Event()
        self._wake = asyncio.Event()  # cuts the backoff short: Redis was seen answering
        self._held: deque[tuple[float, bytes, list[str]]] = deque()
        self._overflow = 0  # held events dropped, oldest first, during this outage
        self._publishing = asyncio.Lock()
        self.problem: str | None = None

    async def on_shutdown(self) -> None:
        await self._drop_connection()
        await self._redis.aclose()

    async def subscribe(self, channels: Iterable[str]) -> None:
        new = set(channels) - self._wanted
        self._wanted |= new
        self._has_subscribed.set()
        if new and self._ready and self._pubsub is not None:
            try:
                await self._pubsub.subscribe(*new)
            except _LOST as exc:  # the stream reconnects and subscribes to everything wanted
                self._lost(exc)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        gone = set(channels) & self._wanted
        self._wanted -= gone
        if not self._wanted:
            self._has_subscribed.clear()
        if gone and self._ready and self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(*gone)
            except _LOST as exc:
                self._lost(exc)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        # An exception here would end Channels' publishing task for good (and hang shutdown on its queue).
        if len(self._held) >= HOLD_MAX:
            self._held.popleft()
            self._overflow += 1
            if self._overflow == 1:
                log.warning("bus.held_overflow", extra={"held": HOLD_MAX})
        self._held.append((time.monotonic(), data, list(channels)))
        if self.problem is None or not self._wanted:  # with nothing subscribed, no stream is there to reconnect
            await self._publish_held()

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        delay = RETRY_FIRST_S
        while True:
            if _cancel_requested():
                raise asyncio.CancelledError
            await self._has_subscribed.wait()
            try:
                pubsub = self._pubsub
                if pubsub is None or not self._ready:
                    pubsub = await self._connect()
                    delay = RETRY_FIRST_S
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_S)
            except _LOST as exc:
                self._lost(exc)
                await self._drop_connection()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                self._wake.clear()
                delay = min(delay * 2, RETRY_CAP_S)
                continue
            if message is None:
                continue
            channel = message["channel"].decode()
            # Unsubscribing is not immediate: drop what still arrives for channels nobody wants any more.
            if channel in self._wanted:
                yield channel, message["data"]

    async def _connect(self) -> PubSub:
        await self._drop_connection()
        pubsub = self._pubsub = self._redis.pubsub()
        await pubsub.connect()
        # Channels wanted or dropped while a SUBSCRIBE is under way are caught up by the next pass.
        subscribed: set[str] = set()
        while missing := self._wanted - subscribed:
            await pubsub.subscribe(*missing)
            subscribed |= missing
        if self.problem is not None:  # from here on, subscribe() and unsubscribe() use the connection directly
            counts = {"channels": len(self._wanted), "held": len(self._held), "dropped": self._overflow}
            log.warning("bus.redis_back", extra=counts)
        self._overflow = 0
        self.problem = None
        self._ready = True
        self._up.set()
        if unwanted := subscribed - self._wanted:
            await pubsub.unsubscribe(*unwanted)
        await self._publish_held()
        return pubsub

    async def _drop_connection(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*_LOST):
                await pubsub.aclose()

    async def reconnected(self, within: float) -> bool:
        """Reconnect now rather than after the backoff (Redis was just seen answering); whether events flow again
        within ``within`` seconds."""
        if self.problem is None:
            return True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), within)
        return self.problem is None

    def _lost(self, exc: BaseException) -> None:
        self._ready = False
        self._up.clear()
        if self.problem is None:
            log.warning("bus.redis_lost", extra={"error": str(exc), "retry_cap_s": RETRY_CAP_S})
        self.problem = f"reconnecting: {type(exc).__name__}: {str(exc)[:200]}"

    async def _publish_held(self) -> None:
        """Publish the held events in order; on a failure keep the rest for the stream's reconnection."""
        async with self._publishing:
            expired = 0
            while self._held:
                held_at, data, channels = self._held[0]
                if time.monotonic() - held_at > HOLD_MAX_AGE_S:
                    self._held.popleft()
                    expired += 1
                    continue
                try:
                    await super().publish(data, channels)
                except _LOST as exc:
                    log.info("bus.publish_held", extra={"error": str(exc), "held": len(self._held)})
                    return
                self._held.popleft()
            if expired:
                log.warning("bus.held_expired", extra={"events": expired, "max_age_s": HOLD_MAX_AGE_S})


def _cancel_requested() -> bool:
    # redis-py's timed read can turn a cancellation that lands as its timeout expires into "no message". The task
    # still counts the request: honour it, or Channels' shutdown waits on this stream for ever.
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


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
        # Litestar keeps the plugin's backend private (pinned at 2.25); only its connection state is read here.
        backend = getattr(channels, "_backend", None)
        self._redis_link = backend if isinstance(backend, ReconnectingRedisPubSubBackend) else None

    @property
    def problem(self) -> str | None:
        """Why events may not reach the subscribers of other processes now; None while they flow (always, in memory)."""
        return self._redis_link.problem if self._redis_link is not None else None

    async def recheck(self, within: float) -> str | None:
        """``problem`` once the bus was given ``within`` seconds to reconnect at once (Redis answers again)."""
        if self._redis_link is None or await self._redis_link.reconnected(within):
            return None
        return self._redis_link.problem

    def publish(self, topic_name: str, event: msgspec.Struct) -> None:
        publish(self.channels, topic_name, event)

    def after_commit(self, session: AsyncSession, topic_name: str, event: msgspec.Struct) -> None:
        """Publish ``event`` once ``session``'s transaction commits; drop it if the transaction rolls back."""
        hooks.after_commit(session, partial(self.publish, topic_name, event))
