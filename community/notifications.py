"""In-app notifications (a room someone asked to be reminded of went live, ...): list, count unread, mark read."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.models import Notification
from kernel.clock import Clock
from kernel.errors import NotFound
from kernel.pagination import decode_cursor, encode_cursor


class NotificationOut(msgspec.Struct):
    id: UUID
    kind: str
    text: str
    url: str
    at: datetime
    read: bool


class NotificationPage(msgspec.Struct):
    items: list[NotificationOut]
    unread: int
    next_cursor: str | None


class UnreadOut(msgspec.Struct):
    unread: int


class ReadIn(msgspec.Struct, forbid_unknown_fields=True):
    """Which notifications to mark read: the given ids, or all of them when ``ids`` is omitted."""

    ids: list[str] | None = None


def _out(n: Notification) -> NotificationOut:
    return NotificationOut(n.id, n.kind, n.text, n.url, n.at, n.read_at is not None)


class NotificationService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def unread(self, user_id: UUID) -> int:
        count = await self.session.scalar(
            select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        return count or 0

    async def page(self, user_id: UUID, limit: int, cursor: str | None) -> NotificationPage:
        """Newest first."""
        query = select(Notification).where(Notification.user_id == user_id)
        if cursor:
            at, last = decode_cursor(cursor, datetime.fromisoformat, UUID)
            query = query.where(or_(Notification.at < at, (Notification.at == at) & (Notification.id < last)))
        rows = list(
            await self.session.scalars(query.order_by(Notification.at.desc(), Notification.id.desc()).limit(limit + 1))
        )
        more, rows = len(rows) > limit, rows[:limit]
        next_cursor = encode_cursor(rows[-1].at.isoformat(), str(rows[-1].id)) if more else None
        return NotificationPage([_out(n) for n in rows], await self.unread(user_id), next_cursor)

    async def mark_read(self, user_id: UUID, ids: list[str] | None) -> int:
        """Mark the user's notifications read (``ids``, or all); ids that are not theirs are not found."""
        query = (
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=self.clock.now())
            .execution_options(synchronize_session=False)
        )
        if ids is not None:
            wanted = set()
            for raw in ids:
                try:
                    wanted.add(UUID(raw))
                except ValueError:
                    raise NotFound("notification_not_found", f"There is no notification {raw!r}.") from None
            mine = set(
                await self.session.scalars(
                    select(Notification.id).where(Notification.user_id == user_id, Notification.id.in_(wanted))
                )
            )
            if missing := wanted - mine:
                raise NotFound("notification_not_found", f"There is no notification {sorted(map(str, missing))[0]}.")
            query = query.where(Notification.id.in_(wanted))
        await self.session.execute(query)
        return await self.unread(user_id)
