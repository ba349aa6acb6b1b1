"""Which process relays a room's media, whether that process is alive, and the sweep that ends rooms it left.

A room is ended only by the process that relays it, or by a sweep that finds that process gone. Every relay (an
app's embedded one, or a media node) is a row in ``live_relay`` under a random id, renewed every
``LiveSettings.relay_heartbeat`` and deleted at a clean shutdown; when media arrives, the room records the relay
holding it (``Room.relay_id``). Every process running live sweeps: a live room whose relay's row is missing or
older than ``STALE_BEATS`` heartbeats (the process was killed, or is cut off from the database) is a suspect, and
one that stays a suspect for ``LiveSettings.publisher_grace`` ends, so an encoder that reconnects meanwhile, to
any relay, keeps its show. Ending claims the room with a conditional UPDATE on its relay, so sweeps in several
processes end it once, and never after another relay took it over.

The database holds this because every process sees it, with or without Redis. ``seen_at`` is wall-clock time,
not the app's Clock (tests fix that one): processes on several machines need clocks in step (NTP) to well
within ``STALE_BEATS`` heartbeats.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.bus import Bus
from kernel.clock import Clock
from kernel.db import Database, is_unavailable, outage_summary
from kernel.settings import LiveSettings
from kernel.workers import Worker
from live.models import Relay, Room, RoomStatus
from live.rooms import RoomService

log = logging.getLogger("livecommerce.media")

STALE_BEATS = 3  # heartbeats a relay may miss (a busy event loop, a slow database) before it counts as gone
FORGET_RELAYS_AFTER = timedelta(days=1)  # rows of relays gone this long are deleted by the next relay to start
MIN_SWEEP_WAIT = 0.05  # seconds: a sweep due sooner waits this long, so suspects never make it spin


def wall_now() -> datetime:
    return datetime.now(UTC)


class RoomLifecycle:
    """What the relay tells the rooms, each in a transaction of its own: media arrived, or the publisher is gone."""

    def __init__(self, db: Database, clock: Clock, bus: Bus, settings: LiveSettings) -> None:
        self._db, self._clock, self._bus, self._settings = db, clock, bus, settings

    def _rooms(self, session: AsyncSession) -> RoomService:
        return RoomService(session, self._clock, self._bus, self._settings)

    async def go_live(self, room_id: UUID, relay_id: UUID) -> None:
        """The room is live, held by ``relay_id`` (also when it was live before and its encoder came back here)."""
        async with self._db.transaction() as session:
            await self._rooms(session).go_live(room_id)
            await session.execute(
                update(Room).where(Room.id == room_id).values(relay_id=relay_id),
                execution_options={"synchronize_session": False},
            )

    async def end(self, room_id: UUID) -> None:
        async with self._db.transaction() as session:
            await self._rooms(session).end(room_id)

    async def end_orphan(self, room_id: UUID, relay_id: UUID | None) -> bool:
        """End ``room_id`` if it is still live and still held by ``relay_id``; True if it ended here."""
        held = Room.relay_id.is_(None) if relay_id is None else Room.relay_id == relay_id
        async with self._db.transaction() as session:
            # The claim locks the row (PostgreSQL): a concurrent sweep re-checks it after this commits and skips.
            claimed = await session.execute(
                update(Room).where(Room.id == room_id, Room.status == RoomStatus.LIVE, held).values(relay_id=None),
                execution_options={"synchronize_session": False},
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return False
            await self._rooms(session).end(room_id)
        return True


class RelayHeartbeat:
    """This process's relay in ``live_relay``: renewed every heartbeat while it runs, deleted when it stops."""

    def __init__(self, db: Database, settings: LiveSettings) -> None:
        self.id = uuid.uuid4()
        self._db = db
        self._node = settings.media_node_url
        self._label = f"{socket.gethostname()}:{os.getpid()}"[:120]
        self._worker = Worker("media-heartbeat", self.beat, every=settings.relay_heartbeat.total_seconds())

    async def start(self) -> None:
        """Register before the app serves (a room this relay takes must find it), then keep renewing."""
        try:
            await self.beat()
            async with self._db.transaction() as session:
                await session.execute(delete(Relay).where(Relay.seen_at < wall_now() - FORGET_RELAYS_AFTER))
        except Exception:  # the heartbeat worker retries; meanwhile other sweeps may count this relay as gone
            log.exception("media.heartbeat_failed", extra={"relay_id": str(self.id)})
        self._worker.start()
        log.info("media.relay_started", extra={"relay_id": str(self.id), "node": self._node})

    async def beat(self) -> None:
        now = wall_now()
        async with self._db.transaction() as session:
            renewed = await session.execute(update(Relay).where(Relay.id == self.id).values(seen_at=now))
            if renewed.rowcount == 0:  # type: ignore[attr-defined]  # first beat, or a sweep forgot it
                session.add(Relay(id=self.id, node_url=self._node, label=self._label, seen_at=now))

    async def stop(self) -> None:
        """A clean shutdown says so at once: the sweeps' grace for this relay's rooms starts now."""
        await self._worker.stop()
        try:
            async with self._db.transaction() as session:
                await session.execute(delete(Relay).where(Relay.id == self.id))
        except Exception:  # unreachable database: the row goes stale instead
            log.warning("media.relay_not_removed", extra={"relay_id": str(self.id)}, exc_info=True)


class OrphanSweep:
    """Ends the live rooms whose relay is gone, once they stay so for the publisher grace.

    Args:
        lifecycle: ends the rooms.
        db: where relays and rooms are read.
        settings: the heartbeat (how often to look, and when a relay is stale) and the grace.
        own: this process's relay, if it has one: its rooms are never suspects (it is alive, being here).
        relaying: whether this process holds a broadcast of a room (an encoder back here before its media is).
    """

    def __init__(
        self,
        lifecycle: RoomLifecycle,
        db: Database,
        settings: LiveSettings,
        own: UUID | None = None,
        relaying: Callable[[UUID], bool] = lambda _room_id: False,
    ) -> None:
        self._lifecycle, self._db, self._own, self._relaying = lifecycle, db, own, relaying
        self._every = settings.relay_heartbeat.total_seconds()
        self._stale = settings.relay_heartbeat * STALE_BEATS
        self._grace = settings.publisher_grace.total_seconds()
        self._suspects: dict[UUID, tuple[UUID | None, float]] = {}  # room -> (its gone relay, first seen gone)
        self._worker = Worker("media-sweep", self._run)

    def start(self) -> None:
        self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _run(self) -> None:
        while True:
            try:
                wait = await self.sweep()
            except Exception as exc:
                if is_unavailable(exc):  # the database is away: the next round retries
                    log.warning("media.sweep_deferred", extra={"error": outage_summary(exc)})
                else:
                    log.exception("media.sweep_failed")
                wait = self._every
            await asyncio.sleep(wait)

    async def sweep(self) -> float:
        """One round: note new suspects, end those past the grace; the seconds until the next round is due."""
        orphans = await self._orphans()
        now = time.monotonic()
        # A room no longer orphaned, or now held by another (also gone) relay, is forgiven or starts over.
        self._suspects = {
            room_id: suspect
            for room_id, suspect in self._suspects.items()
            if room_id in orphans and orphans[room_id] == suspect[0]
        }
        for room_id, relay_id in orphans.items():
            self._suspects.setdefault(room_id, (relay_id, now))
        for room_id, (relay_id, since) in list(self._suspects.items()):
            if now - since < self._grace:
                continue
            del self._suspects[room_id]
            if await self._lifecycle.end_orphan(room_id, relay_id):
                extra = {"room_id": str(room_id), "relay_id": str(relay_id) if relay_id else None}
                log.info("media.orphan_ended", extra=extra)
        waits = [since + self._grace - time.monotonic() for _, since in self._suspects.values()]
        return max(MIN_SWEEP_WAIT, min([self._every, *waits]))

    async def _orphans(self) -> dict[UUID, UUID | None]:
        """Live rooms whose relay is missing or stale, without this process's own."""
        gone = or_(Relay.id.is_(None), Relay.seen_at < wall_now() - self._stale)
        query = (
            select(Room.id, Room.relay_id)
            .outerjoin(Relay, Relay.id == Room.relay_id)
            .where(Room.status == RoomStatus.LIVE, gone)
        )
        async with self._db.transaction() as session:
            rows = (await session.execute(query)).all()
        return {
            room_id: relay_id
            for room_id, relay_id in rows
            if (self._own is None or relay_id != self._own) and not self._relaying(room_id)
        }
