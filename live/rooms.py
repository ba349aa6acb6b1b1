"""Live rooms: scheduling, the scheduled → live → ended lifecycle, stream keys, pinned products.

Services never commit: request handlers are committed by the SQLAlchemy plugin, background callers (the media
relay) open their own ``session.begin()``. Events go out on the bus only after the commit.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role
from kernel.auth.models import User
from kernel.bus import Bus
from kernel.clock import Clock, rfc3339
from kernel.errors import Conflict, Forbidden, NotFound, RuleBroken, Unauthorized
from kernel.pagination import decode_cursor, encode_cursor
from kernel.settings import LiveSettings
from live.events import (
    ROOMS_TOPIC,
    Moderation,
    Pinned,
    ProductCard,
    RoomStatusChanged,
    StatusChanged,
    room_topic,
)
from live.models import Room, RoomProduct, RoomStatus
from live.schemas import MAX_PINNED, RoomIn, RoomPatch
from shop import ProductOut, end_deals_for, products_by_id

# A start time a little in the past is clock skew between the creator's device and us, not a mistake.
SCHEDULE_SKEW = timedelta(minutes=5)
SCHEDULE_HORIZON = timedelta(days=365)


class ViewerCounts(Protocol):
    """What the room channel exposes as ``app.state.room_viewers``: how many sockets watch a room right now."""

    async def viewer_count(self, room_id: UUID) -> int: ...


async def viewer_count(counts: ViewerCounts | None, room_id: UUID) -> int:
    """The live viewer count from the channel, 0 while no channel runs (tests of rooms alone, the CLI)."""
    return await counts.viewer_count(room_id) if counts is not None else 0


def can_moderate(room: Room, user: CurrentUser | None) -> bool:
    """The host or an admin may pin, run deals and moderate a room."""
    return user is not None and (room.host_id == user.id or user.has(Role.ADMIN))


def parse_id(value: str, what: str) -> UUID:
    """An id from a client; one that cannot exist is simply not found."""
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(f"{what}_not_found", f"There is no {what} {value!r}.") from None


def room_context(room_id: UUID) -> dict[str, str]:
    """Where a room's deals may be found; checkout makes it the line's source, crediting the host."""
    return {"room_id": str(room_id)}


def product_card(product: ProductOut) -> ProductCard:
    return ProductCard(str(product.id), product.title, product.price, product.stock, product.image_url)


async def room_host(session: AsyncSession, value: str) -> UUID | None:
    """The attribution resolver for ``source: {"room_id": ...}``: a sale found in a room is its host's."""
    try:
        room_id = UUID(value)
    except ValueError:
        return None
    return await session.scalar(select(Room.host_id).where(Room.id == room_id))


class RoomService:
    def __init__(self, session: AsyncSession, clock: Clock, bus: Bus, settings: LiveSettings) -> None:
        self.session = session
        self.clock = clock
        self.bus = bus
        self.settings = settings

    # Scheduling -------------------------------------------------------------------------------------------------
    async def schedule(self, host: CurrentUser, data: RoomIn) -> Room:
        """A new room in ``scheduled``; the caller is an influencer (the handler's guard checks the role)."""
        now = self.clock.now()
        self._check_start(data.scheduled_for, now)
        product_ids = await self._checked_products(data.product_ids)
        room = Room(
            host_id=host.id,
            title=data.title,
            description=data.description,
            status=RoomStatus.SCHEDULED,
            # Without a start time the room is due now: it sorts among the upcoming rooms by when it was made.
            scheduled_for=data.scheduled_for or now,
            stream_key=secrets.token_urlsafe(32),
            pinned_product_ids=[],
        )
        self.session.add(room)
        await self.session.flush()
        self._place_products(room, product_ids)
        await self.session.flush()
        return room

    async def update(self, user: CurrentUser, room_id: UUID, data: RoomPatch) -> Room:
        """The host changes text, start time, products or slow mode; an ended room is closed to changes."""
        room = await self.for_moderator(user, room_id)
        if room.status == RoomStatus.ENDED:
            raise Conflict("room_ended", "This room has ended; schedule a new one.")
        if data.title is not None:
            room.title = data.title
        if data.description is not None:
            room.description = data.description
        if data.scheduled_for is not None:
            if room.status != RoomStatus.SCHEDULED:
                raise Conflict("room_started", "The room has already started; its start time is history.")
            self._check_start(data.scheduled_for, self.clock.now())
            room.scheduled_for = data.scheduled_for
        if data.product_ids is not None:
            product_ids = await self._checked_products(data.product_ids)
            await self.session.execute(delete(RoomProduct).where(RoomProduct.room_id == room.id))
            self._place_products(room, product_ids)
            kept = [p for p in room.pinned_product_ids if UUID(p) in set(product_ids)]
            if kept != room.pinned_product_ids:
                room.pinned_product_ids = kept
                await self._publish_pinned(room)
        if data.slow_mode_seconds is not None and data.slow_mode_seconds != room.slow_mode_seconds:
            room.slow_mode_seconds = data.slow_mode_seconds
            event = Moderation(action="slow_mode", slow_mode_seconds=data.slow_mode_seconds)
            self.bus.after_commit(self.session, room_topic(room.id), event)
        await self.session.flush()
        return room

    def _check_start(self, when: datetime | None, now: datetime) -> None:
        if when is None:
            return
        if when < now - SCHEDULE_SKEW:
            raise RuleBroken(
                "start_in_past",
                "The start time has passed; pick a time from now on.",
                errors=[{"field": "scheduled_for", "message": "in the past"}],
            )
        if when > now + SCHEDULE_HORIZON:
            raise RuleBroken(
                "start_too_far",
                "Rooms are scheduled at most a year ahead.",
                errors=[{"field": "scheduled_for", "message": "more than a year ahead"}],
            )

    async def _checked_products(self, raw_ids: list[str]) -> list[UUID]:
        """The room's products in the creator's order; unknown or repeated ids are a 422 naming them."""
        repeated = sorted({i for i in raw_ids if raw_ids.count(i) > 1})
        if repeated:
            raise RuleBroken(
                "duplicate_products",
                f"Each product appears once in a room; repeated: {', '.join(repeated)}.",
                errors=[{"field": "product_ids", "message": f"repeated: {i}"} for i in repeated],
            )
        parsed: dict[str, UUID | None] = {}
        for raw in raw_ids:
            try:
                parsed[raw] = UUID(raw)
            except ValueError:
                parsed[raw] = None
        found = await products_by_id(self.session, [u for u in parsed.values() if u is not None])
        unknown = [raw for raw, u in parsed.items() if u is None or u not in found]
        if unknown:
            raise RuleBroken(
                "unknown_products",
                f"These products are not in the catalog: {', '.join(unknown)}.",
                errors=[{"field": "product_ids", "message": f"unknown product {raw}"} for raw in unknown],
                product_ids=unknown,
            )
        return [u for u in parsed.values() if u is not None]

    def _place_products(self, room: Room, product_ids: list[UUID]) -> None:
        self.session.add_all(
            RoomProduct(room_id=room.id, product_id=pid, position=n) for n, pid in enumerate(product_ids)
        )

    # Reading ----------------------------------------------------------------------------------------------------
    async def get(self, room_id: UUID) -> Room:
        room = await self.session.get(Room, room_id)
        if room is None:
            raise NotFound("room_not_found", f"There is no room {room_id}.")
        return room

    async def page(
        self, *, status: RoomStatus | None, host_id: UUID | None, limit: int, cursor: str | None
    ) -> tuple[list[Room], str | None]:
        """Rooms by status in the order people look for them: live ones most recently started first, upcoming
        ones soonest first, ended ones most recently ended first; without a status, newest first."""
        key, descending = {
            RoomStatus.LIVE: (Room.started_at, True),
            RoomStatus.SCHEDULED: (Room.scheduled_for, False),
            RoomStatus.ENDED: (Room.ended_at, True),
            None: (Room.created_at, True),
        }[status]
        query = select(Room)
        if status is not None:
            query = query.where(Room.status == status)
        if host_id is not None:
            query = query.where(Room.host_id == host_id)
        if cursor:
            last_key, last_id = decode_cursor(cursor, datetime.fromisoformat, UUID)
            after = key < last_key if descending else key > last_key
            tie = Room.id < last_id if descending else Room.id > last_id
            query = query.where(or_(after, and_(key == last_key, tie)))
        order = (key.desc(), Room.id.desc()) if descending else (key.asc(), Room.id.asc())
        rooms = list(await self.session.scalars(query.order_by(*order).limit(limit + 1)))
        if len(rooms) <= limit:
            return rooms, None
        rooms = rooms[:limit]
        last = rooms[-1]
        value = getattr(last, key.key)
        return rooms, encode_cursor(value.isoformat(), str(last.id))

    async def product_ids(self, rooms: Iterable[Room]) -> dict[UUID, list[UUID]]:
        """Each room's product ids in the host's order."""
        ids = [r.id for r in rooms]
        result: dict[UUID, list[UUID]] = {i: [] for i in ids}
        if ids:
            rows = await self.session.execute(
                select(RoomProduct.room_id, RoomProduct.product_id)
                .where(RoomProduct.room_id.in_(ids))
                .order_by(RoomProduct.room_id, RoomProduct.position)
            )
            for room_id, product_id in rows:
                result[room_id].append(product_id)
        return result

    async def products(self, room: Room) -> list[ProductOut]:
        """The room's products in the host's order, as the catalog shows them now (price, stock)."""
        ids = (await self.product_ids([room]))[room.id]
        found = await products_by_id(self.session, ids)
        return [found[i] for i in ids if i in found]

    async def host_names(self, rooms: Iterable[Room]) -> dict[UUID, str]:
        ids = {r.host_id for r in rooms}
        if not ids:
            return {}
        rows = await self.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
        return {user_id: name for user_id, name in rows}

    # Lifecycle --------------------------------------------------------------------------------------------------
    async def authorize_publisher(self, room_id: UUID, stream_key: str) -> Room:
        """The room whose stream key this is; a wrong key is 401, an ended room 409."""
        room = await self.get(room_id)
        if not hmac.compare_digest(room.stream_key.encode(), stream_key.encode()):
            raise Unauthorized("wrong_stream_key", "That stream key does not belong to this room.")
        if room.status == RoomStatus.ENDED:
            raise Conflict("room_ended", "This room has ended; schedule a new one to go live again.")
        return room

    async def go_live(self, room_id: UUID) -> Room:
        room = await self.get(room_id)
        if room.status == RoomStatus.LIVE:
            return room
        if room.status == RoomStatus.ENDED:
            raise Conflict("room_ended", "This room has ended; schedule a new one to go live again.")
        room.status = RoomStatus.LIVE
        room.started_at = self.clock.now()
        await self.session.flush()
        self._publish_status(room)
        return room

    async def end(self, room_id: UUID) -> Room:
        """End the show and every deal running in it (idempotent)."""
        room = await self.get(room_id)
        if room.status == RoomStatus.ENDED:
            return room
        now = self.clock.now()
        room.status = RoomStatus.ENDED
        room.ended_at = now
        room.started_at = room.started_at or now
        room.media_node = None
        await end_deals_for(self.session, self.clock, room_context(room.id))
        await self.session.flush()
        self._publish_status(room)
        return room

    async def set_media_node(self, room_id: UUID, node_url: str | None) -> None:
        room = await self.get(room_id)
        room.media_node = node_url
        await self.session.flush()

    async def rotate_stream_key(self, host: CurrentUser, room_id: UUID) -> Room:
        """A fresh key; the old one stops working at once (a running broadcast keeps its session)."""
        room = await self.get(room_id)
        if room.host_id != host.id:
            raise Forbidden("not_host", "Only the room's host may see or change its stream key.")
        if room.status == RoomStatus.ENDED:
            raise Conflict("room_ended", "This room has ended; its stream key is of no further use.")
        room.stream_key = secrets.token_urlsafe(32)
        await self.session.flush()
        return room

    def _publish_status(self, room: Room) -> None:
        at = room.ended_at if room.status == RoomStatus.ENDED else room.started_at
        self.bus.after_commit(self.session, room_topic(room.id), StatusChanged(room.status))
        changed = RoomStatusChanged(str(room.id), str(room.host_id), room.title, room.status, rfc3339(at) if at else "")
        self.bus.after_commit(self.session, ROOMS_TOPIC, changed)

    # Pins -------------------------------------------------------------------------------------------------------
    async def pin(self, user: CurrentUser, room_id: UUID, product_id: str) -> Room:
        """Pin one of the room's products on top; the oldest of more than three drops off."""
        room = await self.for_moderator(user, room_id)
        self._open(room)
        pid = await self.room_product(room, product_id)
        pinned = [str(pid), *(p for p in room.pinned_product_ids if p != str(pid))][:MAX_PINNED]
        if pinned != room.pinned_product_ids:
            room.pinned_product_ids = pinned
            await self.session.flush()
            await self._publish_pinned(room)
        return room

    async def unpin(self, user: CurrentUser, room_id: UUID, product_id: str) -> Room:
        room = await self.for_moderator(user, room_id)
        self._open(room)
        if product_id not in room.pinned_product_ids:
            raise NotFound("not_pinned", f"Product {product_id} is not pinned in this room.")
        room.pinned_product_ids = [p for p in room.pinned_product_ids if p != product_id]
        await self.session.flush()
        await self._publish_pinned(room)
        return room

    async def pinned(self, room: Room) -> list[ProductOut]:
        ids = [UUID(p) for p in room.pinned_product_ids]
        found = await products_by_id(self.session, ids)
        return [found[i] for i in ids if i in found]

    async def _publish_pinned(self, room: Room) -> None:
        cards = [product_card(p) for p in await self.pinned(room)]
        event = Pinned(cards[0] if cards else None, cards)
        self.bus.after_commit(self.session, room_topic(room.id), event)

    async def room_product(self, room: Room, product_id: str) -> UUID:
        """``product_id`` when it is one of the room's products; otherwise a 422."""
        try:
            pid = UUID(product_id)
        except ValueError:
            pid = None
        if pid is None or pid not in (await self.product_ids([room]))[room.id]:
            raise RuleBroken(
                "product_not_in_room",
                f"Product {product_id} is not one of this room's products; add it to the room first.",
                errors=[{"field": "product_id", "message": "not in this room"}],
            )
        return pid

    # Rights -----------------------------------------------------------------------------------------------------
    async def for_moderator(self, user: CurrentUser, room_id: UUID) -> Room:
        """The room, when ``user`` is its host or an admin; 404 before 403 so a missing room is just missing."""
        room = await self.get(room_id)
        if not can_moderate(room, user):
            raise Forbidden("not_host", "Only the room's host (or an admin) may do this.")
        return room

    @staticmethod
    def _open(room: Room) -> None:
        if room.status == RoomStatus.ENDED:
            raise Conflict("room_ended", "This room has ended.")
