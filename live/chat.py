"""Chat in a room: who may send, how much and how often; messages are stored raw and travel as data.

Text is never turned into HTML here: it is stored as typed and sent as a JSON string, and every page renders it
as text. Refusals are :class:`ChatRefused` with a code the channel sends back as an ``error`` frame.
Messages are written by one :class:`ChatWriter` per process that commits whatever arrived while the previous
commit ran (a group commit), so a busy room costs a few transactions a second rather than one per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import msgspec
from advanced_alchemy.mixins.uuid import uuid7
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser
from kernel.auth.models import User
from kernel.bus import Bus
from kernel.clock import Clock, rfc3339
from kernel.db import Database
from kernel.settings import LiveSettings
from kernel.workers import Worker
from live.events import ChatSent, ChatUser, Moderation, room_topic
from live.limits import Limit, Limiter, retry_after
from live.models import ChatMessage, SanctionKind
from live.moderation import sanctions

log = logging.getLogger("livecommerce.live.chat")

# The column's width bounds the setting: a longer limit could not be stored.
COLUMN_CHARS = ChatMessage.__table__.c.text.type.length
SANCTIONS_TTL_S = 60.0  # sanctions are also announced on the bus (evicting at once); this bounds a lost one
MAX_BATCH = 500
# A message waits this long for others to share its commit: a busy room makes tens of commits a second, not
# hundreds, for a delay far below the channel's tick.
COMMIT_LINGER_S = 0.025
# While Redis is away a message could be neither rate-limited nor fanned out: the sender is told to send it again
# after this long (the bus reconnects within a second of Redis answering), and a limiter call that has not
# answered within LIMITER_PATIENCE_S counts as Redis being away.
UNAVAILABLE_RETRY_AFTER_S = 2
LIMITER_PATIENCE_S = 1.0
# Control characters other than tab and newline have no place in chat (and PostgreSQL refuses NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ChatRefused(Exception):
    """A message (or like) that is not accepted; ``code`` and ``detail`` go back in an ``error`` frame."""

    def __init__(self, code: str, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.retry_after = retry_after


def _unavailable(detail: str) -> ChatRefused:
    return ChatRefused("chat_unavailable", detail, UNAVAILABLE_RETRY_AFTER_S)


# What a client may send: {"type": "chat", "text": "..."} or {"type": "like"}.
class ChatIn(msgspec.Struct, tag_field="type", tag="chat", forbid_unknown_fields=True):
    text: str


class LikeIn(msgspec.Struct, tag_field="type", tag="like", forbid_unknown_fields=True):
    pass


client_frames = msgspec.json.Decoder(ChatIn | LikeIn)


def chat_sent(message: ChatMessage, display_name: str) -> ChatSent:
    return ChatSent(str(message.id), ChatUser(str(message.user_id), display_name), message.text, rfc3339(message.at))


@dataclass
class _Pending:
    room_id: UUID
    user: CurrentUser
    text: str
    at: datetime
    done: asyncio.Future[ChatSent]
    id: UUID = field(default_factory=uuid7)  # the model's own time-ordered id, known before the insert

    def row(self) -> dict[str, object]:
        return {"id": self.id, "room_id": self.room_id, "user_id": self.user.id, "text": self.text, "at": self.at}

    def event(self) -> ChatSent:
        return ChatSent(str(self.id), ChatUser(str(self.user.id), self.user.display_name), self.text, rfc3339(self.at))


async def history(session: AsyncSession, room_id: UUID, limit: int) -> list[ChatSent]:
    """The room's last ``limit`` messages that were not deleted, oldest first."""
    if limit <= 0:
        return []
    rows = await session.execute(
        select(ChatMessage, User.display_name)
        .join(User, User.id == ChatMessage.user_id)
        .where(ChatMessage.room_id == room_id, ChatMessage.deleted_at.is_(None))
        .order_by(ChatMessage.at.desc(), ChatMessage.id.desc())
        .limit(limit)
    )
    return [chat_sent(message, name) for message, name in reversed(rows.all())]


class SanctionCache:
    """Each sender's sanctions in a room, read from the database and kept briefly; moderation events evict."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: dict[tuple[UUID, UUID], tuple[set[SanctionKind], float]] = {}

    async def of(self, room_id: UUID, user_id: UUID) -> set[SanctionKind]:
        key = (room_id, user_id)
        cached = self._known.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        async with self.db.sessionmaker() as session:
            kinds = await sanctions(session, room_id, user_id)
        if len(self._known) > 50_000:
            self._known.clear()
        self._known[key] = (kinds, time.monotonic() + SANCTIONS_TTL_S)
        return kinds

    def forget(self, room_id: UUID, user_id: UUID) -> None:
        self._known.pop((room_id, user_id), None)


class ChatWriter:
    """Store messages in group commits, then publish each on its room's topic."""

    def __init__(self, db: Database, bus: Bus) -> None:
        self.db = db
        self.bus = bus
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._held: list[_Pending] = []  # the batch being committed (kept if the commit is interrupted)
        self._worker = Worker("chat-writer", self._run)

    def start(self) -> None:
        self._worker.start()

    async def stop(self) -> None:
        """Stop, storing and publishing what was already accepted."""
        await self._worker.stop()
        while self._held or not self._queue.empty():
            await self._commit()

    def submit(self, room_id: UUID, user: CurrentUser, text: str, at: datetime) -> asyncio.Future[ChatSent]:
        """Queue a message for the next commit; the future is its published event, or ``ChatRefused``."""
        done: asyncio.Future[ChatSent] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(room_id, user, text, at, done))
        return done

    async def _run(self) -> None:
        while True:
            self._held.append(await self._queue.get())
            await asyncio.sleep(COMMIT_LINGER_S)
            await self._commit()

    async def _commit(self) -> None:
        while len(self._held) < MAX_BATCH and not self._queue.empty():
            self._held.append(self._queue.get_nowait())
        batch = self._held
        try:
            async with self.db.transaction() as session:
                await session.execute(insert(ChatMessage), [item.row() for item in batch])
        except Exception as exc:  # the database is away: tell the senders, keep serving the room
            log.warning("chat.store_failed", extra={"error": repr(exc), "messages": len(batch)})
            self._held = []
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(_unavailable("Chat could not be saved just now; send it again."))
            return
        self._held = []
        for item in batch:
            event = item.event()
            try:
                self.bus.publish(room_topic(item.room_id), event)
            except RuntimeError as exc:  # the bus stopped first (shutting down): stored, just not announced
                log.info("chat.publish_after_bus_stopped", extra={"error": repr(exc)})
            if not item.done.done():
                item.done.set_result(event)


class Chat:
    """The rules for sending in a room, shared by every socket of this process."""

    def __init__(self, db: Database, clock: Clock, bus: Bus, redis: Redis | None, settings: LiveSettings) -> None:
        self.clock = clock
        self.settings = settings
        self.max_chars = min(settings.chat_max_chars, COLUMN_CHARS)
        self.limiter = Limiter(redis)
        self.sanctions = SanctionCache(db)
        self.bus = bus
        self.writer = ChatWriter(db, bus)

    async def check_sender(self, room_id: UUID, user: CurrentUser) -> None:
        """Refuse a banned or muted user (before anything they send is looked at)."""
        kinds = await self.sanctions.of(room_id, user.id)
        if SanctionKind.BAN in kinds:
            raise ChatRefused("banned", "You are banned from this room.")
        if SanctionKind.MUTE in kinds:
            raise ChatRefused("muted", "The host has muted you in this room.")

    async def post(
        self, room_id: UUID, user: CurrentUser, text: str, slow_mode_seconds: int
    ) -> asyncio.Future[ChatSent]:
        """Accept one message, or raise :class:`ChatRefused` and change nothing.

        An accepted message is stored and published with the next group commit; the future resolves then (or
        fails with ``ChatRefused("chat_unavailable")``). The sender's socket need not wait for it to read on.
        While the bus or Redis is away the message is refused with ``chat_unavailable`` and a ``retry_after``;
        one accepted just before an outage is held by the bus and reaches the room once Redis is back.
        ``slow_mode_seconds`` is the room's slow mode as it applies to ``user`` (0 for its host and admins).
        """
        await self.check_sender(room_id, user)
        text = _CONTROL.sub("", text).strip()
        if not text:
            raise ChatRefused("empty", "Write something first.")
        if len(text) > self.max_chars:
            raise ChatRefused("too_long", f"Messages are at most {self.max_chars} characters.")
        if self.bus.problem is not None:
            # Accepted now, the message would reach nobody until Redis is back: refusing it is the honest answer.
            raise _unavailable("Chat is reconnecting; send it again in a moment.")
        now = self.clock.now()
        burst = Limit(f"chat:{user.id}", self.settings.chat_burst, self.settings.chat_window.total_seconds())
        slow = Limit(f"slow:{room_id}:{user.id}", 1, slow_mode_seconds)
        try:
            async with asyncio.timeout(LIMITER_PATIENCE_S):
                refused = await self.limiter.hit([burst, slow], now.timestamp())
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("chat.limiter_unavailable", extra={"room_id": str(room_id), "error": repr(exc)})
            raise _unavailable("Chat is reconnecting; send it again in a moment.") from exc
        if refused is not None and refused.limit is slow:
            detail = f"Slow mode: one message every {slow_mode_seconds} s."
            raise ChatRefused("slow_mode", detail, retry_after(refused.wait_s))
        if refused is not None:
            raise ChatRefused("rate_limited", "You are sending messages too fast.", retry_after(refused.wait_s))
        return self.writer.submit(room_id, user, text, now)

    def on_moderation(self, room_id: UUID, event: Moderation) -> None:
        """A sanction changed somewhere: read this user's sanctions afresh next time they send."""
        if event.user_id and event.action in {"mute", "unmute", "ban", "unban"}:
            with contextlib.suppress(ValueError):
                self.sanctions.forget(room_id, UUID(event.user_id))
