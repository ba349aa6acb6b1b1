"""The room directory: read-only queries other domains make about rooms, answered with frozen ``RoomView`` values.

Community's Fan Zone, profiles, reminders and trending read rooms through these functions (re-exported from the
``live`` package root) rather than through ``live.models``, so live may change its tables without breaking them.
A ``RoomView`` leaves out what only live may see: the stream key, the media node, pins and moderation settings.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from msgspec import Struct
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.db import like_pattern
from live.models import ChatMessage, Room, RoomStatus


class RoomView(Struct, frozen=True):
    """A room as other domains see it: what it is, whose it is, and when it was announced, starts and ends."""

    id: UUID
    host_id: UUID
    title: str
    description: str
    status: RoomStatus
    created_at: datetime  # when it was announced
    scheduled_for: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


class HostRooms(Struct, frozen=True):
    """One host's rooms: live ones newest first, upcoming ones soonest first, and the latest past ones."""

    live: tuple[RoomView, ...]
    upcoming: tuple[RoomView, ...]
    past: tuple[RoomView, ...]


def _view(room: Room) -> RoomView:
    return RoomView(
        id=room.id,
        host_id=room.host_id,
        title=room.title,
        description=room.description,
        status=RoomStatus(room.status),
        created_at=room.created_at,
        scheduled_for=room.scheduled_for,
        started_at=room.started_at,
        ended_at=room.ended_at,
    )


async def _views(session: AsyncSession, query: Any) -> list[RoomView]:
    return [_view(room) for room in await session.scalars(query)]


def _hosts_first(hosts: Collection[UUID]) -> list[Any]:
    """An ordering term that puts these hosts' rooms before the others' (none when there are no hosts)."""
    return [case((Room.host_id.in_(list(hosts)), 0), else_=1)] if hosts else []


async def room_by_id(session: AsyncSession, room_id: UUID) -> RoomView | None:
    """The room ``room_id``, or None when there is no such room.

    Args:
        session: The database session.
        room_id: The room's id.

    Returns:
        The room's read model, or None.
    """
    room = await session.get(Room, room_id)
    return _view(room) if room is not None else None


async def rooms_by_id(session: AsyncSession, room_ids: Collection[UUID]) -> dict[UUID, RoomView]:
    """The rooms among ``room_ids`` that exist, by id (in any status).

    Args:
        session: The database session.
        room_ids: The ids to look up.

    Returns:
        The rooms found, keyed by id.
    """
    if not room_ids:
        return {}
    return {room.id: room for room in await _views(session, select(Room).where(Room.id.in_(list(room_ids))))}


async def live_now(
    session: AsyncSession, *, hosts_first: Collection[UUID] = (), limit: int | None = None
) -> list[RoomView]:
    """The rooms live now, the given hosts' first, then the most recently started.

    Args:
        session: The database session.
        hosts_first: Hosts whose rooms come before the others (e.g. those the reader follows).
        limit: At most this many rooms; all of them without one.

    Returns:
        The live rooms in that order.
    """
    order = [*_hosts_first(hosts_first), Room.started_at.desc(), Room.id.desc()]
    return await _views(session, select(Room).where(Room.status == RoomStatus.LIVE).order_by(*order).limit(limit))


async def upcoming(
    session: AsyncSession, *, not_before: datetime, hosts_first: Collection[UUID] = (), limit: int | None = None
) -> list[RoomView]:
    """The scheduled rooms not yet started, the given hosts' first, then the soonest (unscheduled ones last).

    Args:
        session: The database session.
        not_before: Leave out rooms scheduled before this time (their host never started them).
        hosts_first: Hosts whose rooms come before the others.
        limit: At most this many rooms; all of them without one.

    Returns:
        The upcoming rooms in that order.
    """
    order = [*_hosts_first(hosts_first), Room.scheduled_for.asc().nulls_last(), Room.id.asc()]
    query = select(Room).where(
        Room.status == RoomStatus.SCHEDULED, or_(Room.scheduled_for.is_(None), Room.scheduled_for >= not_before)
    )
    return await _views(session, query.order_by(*order).limit(limit))


async def find_rooms(session: AsyncSession, q: str, *, not_before: datetime, limit: int) -> list[RoomView]:
    """Live and upcoming rooms whose title or description holds ``q``: live ones first, then the soonest.

    Args:
        session: The database session.
        q: The words looked for, as typed (matched case-insensitively, wildcards taken literally).
        not_before: Leave out rooms scheduled before this time (their host never started them).
        limit: At most this many rooms.

    Returns:
        The matching rooms in that order.
    """
    pattern = like_pattern(q.strip())
    query = select(Room).where(
        or_(Room.title.ilike(pattern, escape="\\"), Room.description.ilike(pattern, escape="\\")),
        or_(
            Room.status == RoomStatus.LIVE,
            and_(
                Room.status == RoomStatus.SCHEDULED,
                or_(Room.scheduled_for.is_(None), Room.scheduled_for >= not_before),
            ),
        ),
    )
    order = [case((Room.status == RoomStatus.LIVE, 0), else_=1), Room.scheduled_for.asc().nulls_last(), Room.id]
    return await _views(session, query.order_by(*order).limit(limit))


async def host_rooms(session: AsyncSession, host_id: UUID, *, limit: int, past_limit: int) -> HostRooms:
    """The host's live rooms (newest first), upcoming ones (soonest first) and latest ended ones.

    Args:
        session: The database session.
        host_id: The host.
        limit: At most this many live rooms, and as many upcoming ones.
        past_limit: At most this many ended rooms.

    Returns:
        The three lists.
    """

    async def of(status: RoomStatus, order: list[Any], count: int) -> tuple[RoomView, ...]:
        query = select(Room).where(Room.host_id == host_id, Room.status == status).order_by(*order).limit(count)
        return tuple(await _views(session, query))

    return HostRooms(
        live=await of(RoomStatus.LIVE, [Room.started_at.desc()], limit),
        upcoming=await of(RoomStatus.SCHEDULED, [Room.scheduled_for, Room.id], limit),
        past=await of(RoomStatus.ENDED, [Room.ended_at.desc()], past_limit),
    )


async def open_rooms_of_hosts(
    session: AsyncSession, host_ids: Collection[UUID], *, before: tuple[datetime, UUID] | None, limit: int
) -> list[RoomView]:
    """The hosts' live and scheduled rooms announced before ``before``, newest announcement first.

    Keyset pagination on ``(created_at, id)`` descending, so a caller can merge them with its own rows.

    Args:
        session: The database session.
        host_ids: The hosts.
        before: The ``(created_at, id)`` of the last room already shown; None for the first page.
        limit: At most this many rooms.

    Returns:
        The rooms in that order.
    """
    query = select(Room).where(
        Room.host_id.in_(list(host_ids)), Room.status.in_((RoomStatus.LIVE, RoomStatus.SCHEDULED))
    )
    if before is not None:
        at, last = before
        query = query.where(or_(Room.created_at < at, and_(Room.created_at == at, Room.id < last)))
    return await _views(session, query.order_by(Room.created_at.desc(), Room.id.desc()).limit(limit))


async def rooms_announced(session: AsyncSession, *, since: datetime, before: datetime) -> list[RoomView]:
    """The rooms announced in ``[since, before)`` that had not ended by ``before``.

    Args:
        session: The database session.
        since: The earliest announcement time.
        before: The moment looked at: later announcements and endings are not seen.

    Returns:
        The rooms, in no particular order.
    """
    query = select(Room).where(
        Room.created_at >= since,
        Room.created_at < before,
        or_(Room.status != RoomStatus.ENDED, Room.ended_at >= before),
    )
    return await _views(session, query)


async def chat_message_counts(
    session: AsyncSession, room_ids: Collection[UUID], *, since: datetime, before: datetime
) -> dict[UUID, int]:
    """How many chat messages each of ``room_ids`` had in ``[since, before)``, not counting those deleted by then.

    Args:
        session: The database session.
        room_ids: The rooms to count; rooms without messages are left out of the answer.
        since: The earliest message time.
        before: The moment looked at.

    Returns:
        Message counts by room id.
    """
    if not room_ids:
        return {}
    wanted = set(room_ids)
    rows = await session.execute(
        select(ChatMessage.room_id, func.count())
        .where(
            ChatMessage.at >= since,
            ChatMessage.at < before,
            or_(ChatMessage.deleted_at.is_(None), ChatMessage.deleted_at >= before),
        )
        .group_by(ChatMessage.room_id)
    )
    return {room_id: n for room_id, n in rows if room_id in wanted}
