"""Room reminders: "remind me" on an upcoming room, its iCalendar file, and the notification when it goes live.

When a room goes live, ``live`` publishes ``RoomStatusChanged`` on ``ROOMS_TOPIC``. Every worker's
:class:`GoLiveNotifier` hears it (the bus is Redis pub/sub when scaled), and each claims the room's reminders with
one conditional UPDATE (``notified_at IS NULL``) in the transaction that writes the notifications: the rows one
worker claimed are invisible to the others, so each reminder is notified exactly once. A go-live the bus lost is
caught by the sweeper's ``MISSED_REMINDERS`` job, which makes the same claim on live rooms' unnotified reminders.

The host's followers are told too, unless they turned live alerts off for that creator (or asked for a reminder
of this room, which already told them). Every worker races to insert the room's ``LiveAnnouncement`` row; the one
whose insert wins writes the followers' notifications in the same transaction, so each follower hears once. The
sweeper announces live rooms that have no announcement row yet, as it does for reminders. One row per follower is
written: at tens of thousands of followers this wants a batched or feed-side design (the Fan Zone's fan-out).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

import msgspec
from litestar.channels import ChannelsPlugin
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Follow, LiveAnnouncement, Notification, RoomReminder
from kernel.auth import CurrentUser
from kernel.auth.models import User
from kernel.clock import Clock
from kernel.db import Database
from kernel.errors import Conflict, NotFound
from kernel.jobs import Job
from kernel.workers import Worker
from live import ROOMS_TOPIC, RoomStatus, RoomStatusChanged, RoomView, live_now, room_by_id

log = logging.getLogger("livecommerce.reminders")

SUBSCRIBE_TIMEOUT = 5.0
SHOW_LENGTH = timedelta(hours=1)  # calendars need an end; shows have none until they end
ROOM_LIVE = "room_live"  # a room one asked to be reminded of
FOLLOWED_LIVE = "followed_live"  # a creator one follows


class ReminderOut(msgspec.Struct):
    room_id: UUID
    reminded: bool
    calendar_url: str


def calendar_url(room_id: UUID) -> str:
    return f"/community/rooms/{room_id}/calendar.ics"


async def _room(session: AsyncSession, room_id: UUID) -> RoomView:
    room = await room_by_id(session, room_id)
    if room is None:
        raise NotFound("room_not_found", f"There is no room {room_id}.")
    return room


class ReminderService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def remind(self, user: CurrentUser, room_id: UUID) -> tuple[ReminderOut, bool]:
        """Ask to be told when the room goes live; returns the reminder and whether it is new (twice is a no-op)."""
        room = await _room(self.session, room_id)
        if room.status != RoomStatus.SCHEDULED:
            raise Conflict(
                "room_not_upcoming",
                "This room is live already: join it now." if room.status == RoomStatus.LIVE else "This room has ended.",
            )
        created = True
        try:
            async with self.session.begin_nested():
                self.session.add(RoomReminder(room_id=room_id, user_id=user.id, at=self.clock.now()))
        except IntegrityError:
            created = False
        return ReminderOut(room_id, True, calendar_url(room_id)), created

    async def forget(self, user: CurrentUser, room_id: UUID) -> None:
        await _room(self.session, room_id)
        await self.session.execute(
            delete(RoomReminder).where(RoomReminder.room_id == room_id, RoomReminder.user_id == user.id)
        )

    async def calendar(self, room_id: UUID, public_url: str) -> str:
        room = await _room(self.session, room_id)
        return ics_for(room, public_url, self.clock.now())


async def notify_room_live(session: AsyncSession, room_id: UUID, title: str, at: datetime) -> int:
    """Notify every reminder of ``room_id`` not notified yet; return how many were. Safe to run on every worker."""
    claimed = await session.execute(
        update(RoomReminder)
        .where(RoomReminder.room_id == room_id, RoomReminder.notified_at.is_(None))
        .values(notified_at=at)
        .returning(RoomReminder.user_id)
        .execution_options(synchronize_session=False)
    )
    users = list(claimed.scalars())
    text = f"{title} is live now"[:300]
    session.add_all(
        Notification(user_id=user_id, kind=ROOM_LIVE, text=text, url=f"/live/rooms/{room_id}", at=at)
        for user_id in users
    )
    return len(users)


async def announce_to_followers(session: AsyncSession, room: RoomView, at: datetime) -> int:
    """Notify the host's followers who keep live alerts on (and set no reminder for the room) that it is live,
    once per room whichever worker gets here first; return how many were notified."""
    try:
        async with session.begin_nested():
            session.add(LiveAnnouncement(room_id=room.id, at=at))
    except IntegrityError:
        return 0  # another worker (or an earlier sweep) announced it
    reminded = select(RoomReminder.user_id).where(RoomReminder.room_id == room.id)
    followers = list(
        await session.scalars(
            select(Follow.follower_id).where(
                Follow.creator_id == room.host_id, Follow.live_alerts.is_(True), Follow.follower_id.not_in(reminded)
            )
        )
    )
    host = await session.scalar(select(User.display_name).where(User.id == room.host_id)) or "A creator you follow"
    text = f"{host} is live: {room.title}"[:300]
    session.add_all(
        Notification(user_id=user_id, kind=FOLLOWED_LIVE, text=text, url=f"/live/rooms/{room.id}", at=at)
        for user_id in followers
    )
    return len(followers)


async def notify_missed(db: Database, clock: Clock) -> int:
    """Notify the reminders of live rooms that no go-live event reached (the bus lost it while Redis was away, or
    no worker was listening): the sweeper runs this every interval, so the database decides, not the bus."""
    async with db.transaction() as session:
        live = await live_now(session)
        titles = {room.id: room.title for room in live}
        if not titles:
            return 0
        announced = set(
            await session.scalars(select(LiveAnnouncement.room_id).where(LiveAnnouncement.room_id.in_(list(titles))))
        )
        told = sum([await announce_to_followers(session, r, clock.now()) for r in live if r.id not in announced])
        room_ids = list(
            await session.scalars(
                select(RoomReminder.room_id)
                .where(RoomReminder.room_id.in_(list(titles)), RoomReminder.notified_at.is_(None))
                .distinct()
                .limit(100)
            )
        )
        return told + sum(
            [await notify_room_live(session, room_id, titles[room_id], clock.now()) for room_id in room_ids]
        )


MISSED_REMINDERS = Job("missed_room_reminders", notify_missed)


class GoLiveNotifier:
    """Listens on ``ROOMS_TOPIC`` for rooms going live and notifies their reminders (started in the app lifespan)."""

    def __init__(self, channels: ChannelsPlugin, db: Database, clock: Clock) -> None:
        self.channels = channels
        self.db = db
        self.clock = clock
        self._worker = Worker("room-reminders", self._listen)
        self._ready = asyncio.Event()

    async def start(self) -> None:
        """Subscribe before the app serves, so no go-live is missed; a bus that cannot subscribe within
        ``SUBSCRIBE_TIMEOUT`` seconds is logged and left to the sweeper's ``MISSED_REMINDERS``."""
        if not await self._worker.started(self._ready, SUBSCRIBE_TIMEOUT):
            log.warning("reminders.not_subscribed")

    async def stop(self) -> None:
        await self._worker.stop()

    async def _listen(self) -> None:
        decoder = msgspec.json.Decoder(RoomStatusChanged)
        try:
            async with self.channels.start_subscription([ROOMS_TOPIC]) as subscriber:
                self._ready.set()
                async for raw in subscriber.iter_events():
                    try:
                        changed = decoder.decode(raw)
                        if changed.status == RoomStatus.LIVE:
                            await self.handle(changed)
                    except Exception:  # one bad event must not stop notifications for every later room
                        log.exception("reminders.notify_failed")
        except Exception:  # the bus itself failed: the sweeper's MISSED_REMINDERS job still notifies
            log.exception("reminders.listener_stopped")

    async def handle(self, changed: RoomStatusChanged) -> int:
        async with self.db.transaction() as session:
            now = self.clock.now()
            room_id = UUID(changed.room_id)
            reminded = await notify_room_live(session, room_id, changed.title, now)
            room = await room_by_id(session, room_id)
            return reminded + (await announce_to_followers(session, room, now) if room is not None else 0)


# iCalendar (RFC 5545) -----------------------------------------------------------------------------------------------
def _ics_text(value: str) -> str:
    """TEXT values escape backslash, semicolon and comma, and newlines become ``\\n`` (RFC 5545 §3.3.11)."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _ics_time(value: datetime) -> str:
    return value.strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after CRLF and one space (§3.1), never inside a
    UTF-8 character."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def ics_for(room: RoomView, public_url: str, now: datetime) -> str:
    """A one-event calendar for the room: starts at its scheduled time (or when it went live, or now)."""
    start = room.scheduled_for or room.started_at or now
    host = urlsplit(public_url).hostname or "livecommerce"
    url = f"{public_url}/live/rooms/{room.id}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//LiveCommerce//Fan Zone//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:room-{room.id}@{host}",
        f"DTSTAMP:{_ics_time(now)}",
        f"DTSTART:{_ics_time(start)}",
        f"DTEND:{_ics_time(start + SHOW_LENGTH)}",
        f"SUMMARY:{_ics_text(room.title)}",
        f"DESCRIPTION:{_ics_text((room.description + chr(10) + chr(10) if room.description else '') + url)}",
        f"URL:{url}",
        "STATUS:CONFIRMED",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{_ics_text(room.title)}",
        "TRIGGER:-PT10M",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines)
