"""Live viewer counts: each process counts its own sockets per room; the room's total is the sum over processes.

With Redis every process writes its count into a per-room hash (one field per process, stamped with when it
stops counting), so a process that dies without saying goodbye drops out of the total within ``STALE_AFTER_S``.
Without Redis there is one process and its own count is the total. A room's peak is saved to
``Room.peak_viewers`` every ``PEAK_SAVE_S`` while it grows.
"""

from __future__ import annotations

import logging
import time
import uuid
from uuid import UUID

from redis.asyncio import Redis
from sqlalchemy import update

from kernel.db import Database
from live.models import Room

log = logging.getLogger("livecommerce.live.viewers")

# A process re-states its counts this often; a count not re-stated for STALE_AFTER_S no longer counts.
REFRESH_S = 0.5
STALE_AFTER_S = 15.0
PEAK_SAVE_S = 5.0


def _key(room_id: UUID) -> str:
    return f"livecommerce:live:viewers:{room_id}"


class ViewerCounts:
    """This process's sockets per room, and the room's total across processes."""

    def __init__(self, redis: Redis | None, db: Database) -> None:
        self.redis = redis
        self.db = db
        self.process = uuid.uuid4().hex
        self.local: dict[UUID, int] = {}
        self.refresh_s = REFRESH_S
        self._peaks: dict[UUID, int] = {}  # the highest total seen per room
        self._unsaved: set[UUID] = set()
        self._saved_at = time.monotonic()

    def set_local(self, room_id: UUID, count: int) -> None:
        self.local[room_id] = count

    async def total(self, room_id: UUID) -> int:
        """How many sockets watch ``room_id`` now, over every process (0 for a room nobody watches)."""
        own = self.local.get(room_id, 0)
        if self.redis is None:
            return own
        # This process's own count may be newer than what it last wrote, so it is counted from memory.
        others = await self.redis.hgetall(_key(room_id))
        others.pop(self.process.encode(), None)
        return own + _sum_fresh(others, time.time())

    async def sync(self, room_ids: list[UUID]) -> dict[UUID, int]:
        """Publish this process's counts for ``room_ids`` and read back each room's total; note new peaks."""
        totals = await self._exchange(room_ids)
        for room_id, total in totals.items():
            if total > self._peaks.get(room_id, 0):
                self._peaks[room_id] = total
                self._unsaved.add(room_id)
        if self._unsaved and time.monotonic() - self._saved_at >= PEAK_SAVE_S:
            await self.save_peaks()
        return totals

    async def save_peaks(self) -> None:
        """Raise each room's saved peak to the highest total seen here (never lowering another process's)."""
        self._saved_at = time.monotonic()
        unsaved, self._unsaved = self._unsaved, set()
        try:
            async with self.db.transaction() as session:
                for room_id in unsaved:
                    peak = self._peaks[room_id]
                    await session.execute(
                        update(Room).where(Room.id == room_id, Room.peak_viewers < peak).values(peak_viewers=peak)
                    )
        except Exception as exc:  # the database is away: try again on the next round
            log.warning("viewers.peak_save_failed", extra={"error": repr(exc)})
            self._unsaved |= unsaved
            return
        for room_id in unsaved - self.local.keys():
            self._peaks.pop(room_id, None)

    async def _exchange(self, room_ids: list[UUID]) -> dict[UUID, int]:
        if self.redis is None:
            return {room_id: self.local.get(room_id, 0) for room_id in room_ids}
        if not room_ids:
            return {}
        now = time.time()
        stamp = now + STALE_AFTER_S
        async with self.redis.pipeline(transaction=False) as pipe:
            for room_id in room_ids:
                key = _key(room_id)
                pipe.hset(key, self.process, f"{self.local.get(room_id, 0)}:{stamp:.1f}")
                pipe.expire(key, int(STALE_AFTER_S * 4))
                pipe.hgetall(key)
            replies = await pipe.execute()
        return {room_id: _sum_fresh(replies[3 * n + 2], now) for n, room_id in enumerate(room_ids)}

    async def forget(self, room_id: UUID) -> None:
        """This process no longer has sockets in ``room_id``."""
        self.local.pop(room_id, None)
        if room_id not in self._unsaved:
            self._peaks.pop(room_id, None)
        if self.redis is not None:
            try:
                await self.redis.hdel(_key(room_id), self.process)
            except Exception as exc:  # the field goes stale and stops counting within STALE_AFTER_S anyway
                log.warning("viewers.forget_failed", extra={"error": repr(exc)})

    async def forget_all(self) -> None:
        if self._unsaved:
            await self.save_peaks()
        for room_id in list(self.local):
            await self.forget(room_id)


def _sum_fresh(fields: dict[bytes, bytes], now: float) -> int:
    total = 0
    for value in fields.values():
        count, _, until = value.decode().partition(":")
        if float(until or 0) >= now:
            total += int(count)
    return total
