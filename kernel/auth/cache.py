"""Who recently seen tokens belong to, kept per worker so a signed-in request needs no database round trip.

An entry lives for at most ``LIVECOMMERCE_AUTH_CACHE_TTL`` (30 s by default) and never past its token's own expiry.
Revocation (sign-out, and anything that changes who an account is or what it may do) is published on the bus, and
every worker forgets the token or the account as the event arrives. While a worker's bus link is down it cannot
hear revocations, so it forgets everything and asks the database on every request until the link is back (and then
forgets once more, for the events missed in between). Without Redis, several workers cannot hear each other at all:
`livecommerce serve --workers N` turns the cache off then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.bus import Bus, topic
from kernel.clock import Clock

if TYPE_CHECKING:
    from litestar.channels import Subscriber

    from kernel.auth.guards import CurrentUser

log = logging.getLogger("livecommerce.auth")

REVOCATIONS = topic("auth", "revocations")
MAX_ENTRIES = 10_000  # about 3 MiB per worker; the least recently used entry goes first


class Revoked(msgspec.Struct, frozen=True):
    """Forget one token (by its hash), or every token of one account."""

    token_hash: str | None = None
    user_id: UUID | None = None


class SignedInCache:
    """Token hash -> (the signed-in user, when the token expires, when the entry goes stale)."""

    def __init__(self, ttl_s: float, clock: Clock, bus: Bus) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self.bus = bus
        self._entries: OrderedDict[str, tuple[CurrentUser, datetime, float]] = OrderedDict()
        self._bus_was_down = False

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def _usable(self) -> bool:
        """Whether revocations can reach this worker now; forgets everything when that changes."""
        down = self.bus.problem is not None
        if down != self._bus_was_down:
            self._entries.clear()
            self._bus_was_down = down
        return self.enabled and not down

    def get(self, token_hash: str) -> CurrentUser | None:
        if not self._usable() or (entry := self._entries.get(token_hash)) is None:
            return None
        user, token_expires, stale_at = entry
        if time.monotonic() >= stale_at or self.clock.now() >= token_expires:
            del self._entries[token_hash]
            return None
        self._entries.move_to_end(token_hash)
        return user

    def put(self, token_hash: str, user: CurrentUser, token_expires: datetime) -> None:
        if not self._usable():
            return
        self._entries[token_hash] = (user, token_expires, time.monotonic() + self.ttl_s)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)

    def forget(self, event: Revoked) -> None:
        if event.token_hash is not None:
            self._entries.pop(event.token_hash, None)
        if event.user_id is not None:
            for key in [key for key, (user, _, _) in self._entries.items() if user.id == event.user_id]:
                del self._entries[key]

    def revoke(self, session: AsyncSession, event: Revoked) -> None:
        """Forget at once here, and on every worker once ``session`` commits the change that revoked it."""
        self.forget(event)
        self.bus.after_commit(session, REVOCATIONS, event)

    def apply(self, raw: bytes) -> None:
        """One revocation event from the bus (any worker's)."""
        try:
            self.forget(_decode_revoked(raw))
        except msgspec.ValidationError:
            log.warning("auth.revocation_unreadable")


_decode_revoked = msgspec.json.Decoder(Revoked).decode


class RevocationListener:
    """Subscribes this worker's cache to every worker's revocations while the app runs."""

    def __init__(self, cache: SignedInCache, channels: ChannelsPlugin) -> None:
        self.cache = cache
        self.channels = channels
        self._subscriber: Subscriber | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self.cache.enabled:
            return
        # Subscribed before the first request is served, so no revocation can slip past an entry cached early.
        self._subscriber = await self.channels.subscribe([REVOCATIONS])
        self._task = asyncio.create_task(self._listen(self._subscriber), name="auth-revocations")

    async def _listen(self, subscriber: Subscriber) -> None:
        async for raw in subscriber.iter_events():
            self.cache.apply(raw)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscriber is not None:
            await self.channels.unsubscribe(self._subscriber)
