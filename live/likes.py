"""Likes: counted per tick, published as the room's running total, saved to ``Room.like_count`` in batches.

A tap is only an increment in memory; once per tick each process adds its increments to the room's total (in
Redis when configured, so every worker shares it) and publishes the total on the room's topic, where every
process's hub keeps the largest it has seen. The database gets the increments every ``SAVE_EVERY_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from uuid import UUID

from redis.asyncio import Redis
from sqlalchemy import update

from kernel.bus import Bus
from kernel.db import Database
from kernel.workers import Worker
from live.events import Likes, room_topic
from live.limits import Limit, Limiter
from live.models import Room

log = logging.getLogger("livecommerce.live.likes")

SAVE_EVERY_S = 2.0
# Taps per user: a finger drumming on the heart is fine, a script is not.
LIKE_BURST, LIKE_WINDOW_S = 20, 2.0
TOTAL_TTL_S = 86_400  # a room's running total outlives any show; the database holds it afterwards


def _key(room_id: UUID) -> str:
    return f"livecommerce:live:likes:{room_id}"


class LikeCounter:
    def __init__(self, db: Database, bus: Bus, redis: Redis | None, tick_s: float) -> None:
        self.db = db
        self.bus = bus
        self.redis = redis
        self.tick_s = tick_s
        self.limiter = Limiter(None)  # per process: a like is too small to cost a Redis round trip
        self._pending: dict[UUID, int] = {}  # taps not yet added to the total
        self._unsaved: dict[UUID, int] = {}  # added to the total, not yet to the database
        self._stored: dict[UUID, int] = {}  # the database's count when this process first saw the room
        self._totals: dict[UUID, int] = {}  # without Redis: the running totals
        self._worker = Worker("like-counter", self._run)

    def start(self) -> None:
        self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()
        with contextlib.suppress(Exception):
            await self._publish()
        await self._save()

    async def total(self, room_id: UUID, stored: int) -> int:
        """The room's total now; ``stored`` is ``Room.like_count`` as just read (the start of a fresh total)."""
        self._stored.setdefault(room_id, stored)
        if self.redis is None:
            return self._totals.setdefault(room_id, stored) + self._pending.get(room_id, 0)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(_key(room_id), stored, nx=True, ex=TOTAL_TTL_S)
            pipe.get(_key(room_id))
            _, value = await pipe.execute()
        return int(value) + self._pending.get(room_id, 0)

    def tap(self, room_id: UUID, user_id: UUID) -> float:
        """Count one like; the answer is 0, or the seconds this user must wait before liking again."""
        refused = self.limiter.hit_here([Limit(f"like:{user_id}", LIKE_BURST, LIKE_WINDOW_S)], time.time())
        if refused is not None:
            return refused.wait_s
        self._pending[room_id] = self._pending.get(room_id, 0) + 1
        return 0.0

    async def _run(self) -> None:
        saved_at = time.monotonic()
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                await self._publish()
                if time.monotonic() - saved_at >= SAVE_EVERY_S:
                    saved_at = time.monotonic()
                    await self._save()
            except Exception as exc:  # Redis or the database away: the taps wait for the next round
                log.warning("likes.flush_failed", extra={"error": repr(exc)})

    async def _publish(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            totals = await self._add(pending)
        except Exception:
            for room_id, n in pending.items():  # keep them for the next round
                self._pending[room_id] = self._pending.get(room_id, 0) + n
            raise
        for room_id, n in pending.items():
            self._unsaved[room_id] = self._unsaved.get(room_id, 0) + n
            self.bus.publish(room_topic(room_id), Likes(totals[room_id]))

    async def _add(self, pending: dict[UUID, int]) -> dict[UUID, int]:
        if self.redis is None:
            for room_id, n in pending.items():
                self._totals[room_id] = self._totals.get(room_id, self._stored.get(room_id, 0)) + n
            return {room_id: self._totals[room_id] for room_id in pending}
        async with self.redis.pipeline(transaction=True) as pipe:
            for room_id, n in pending.items():
                # A total that expired starts again from the database's count plus what this process saw.
                pipe.set(_key(room_id), self._stored.get(room_id, 0), nx=True, ex=TOTAL_TTL_S)
                pipe.incrby(_key(room_id), n)
                pipe.expire(_key(room_id), TOTAL_TTL_S)
            replies = await pipe.execute()
        return {room_id: int(replies[3 * i + 1]) for i, room_id in enumerate(pending)}

    async def _save(self) -> None:
        unsaved, self._unsaved = self._unsaved, {}
        if not unsaved:
            return
        try:
            async with self.db.transaction() as session:
                for room_id, n in unsaved.items():
                    await session.execute(update(Room).where(Room.id == room_id).values(like_count=Room.like_count + n))
        except Exception as exc:
            log.warning("likes.save_failed", extra={"error": repr(exc)})
            for room_id, n in unsaved.items():
                self._unsaved[room_id] = self._unsaved.get(room_id, 0) + n
