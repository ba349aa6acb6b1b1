"""Live deals: the host offers a live-only price for a limited quantity of one of the room's products.

The money side (the price, the remaining quantity, the per-buyer limit) is shop's: a deal is bought through
checkout with ``deal_id``. Here the room's rules are checked and the room hears of the offer after the commit.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from kernel.auth import CurrentUser
from kernel.clock import rfc3339
from kernel.errors import Conflict, Forbidden
from live.events import DealOffered, room_topic
from live.models import Room, RoomStatus
from live.rooms import RoomService, room_context
from live.schemas import DealIn, DealOut
from shop import DealInfo, active_deals, create_deal


def deal_out(deal: DealInfo) -> DealOut:
    return msgspec.convert(deal, DealOut, from_attributes=True)


def deal_offered(deal: DealInfo) -> DealOffered:
    """The room channel's ``deal`` frame for ``deal``."""
    return DealOffered(
        id=str(deal.id),
        product_id=str(deal.product_id),
        price=deal.price,
        quantity=deal.quantity,
        remaining=deal.remaining,
        per_buyer_limit=deal.per_buyer_limit,
        ends_at=rfc3339(deal.ends_at),
    )


class DealService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms

    async def offer(self, host: CurrentUser, room_id: UUID, data: DealIn) -> DealInfo:
        """Start a deal in a live room (its host only; the price is the host's promise to the audience)."""
        room = await self.rooms.get(room_id)
        if room.host_id != host.id:
            raise Forbidden("not_host", "Only the room's host may offer deals in it.")
        if room.status != RoomStatus.LIVE:
            raise Conflict("room_not_live", "Deals are a live-only price: go live first.", room_status=room.status)
        product_id = await self.rooms.room_product(room, data.product_id)
        deal = await create_deal(
            self.rooms.session,
            self.rooms.clock,
            product_id=product_id,
            price=data.price.to_money(),
            quantity=data.quantity,
            ends_at=data.ends_at,
            per_buyer_limit=data.per_buyer_limit,
            context=room_context(room.id),
            created_by=host.id,
        )
        self.rooms.bus.after_commit(self.rooms.session, room_topic(room.id), deal_offered(deal))
        return deal

    async def active(self, room: Room) -> list[DealInfo]:
        """The room's deals whose time has not run out (sold-out ones too, so the page can say so)."""
        if room.status == RoomStatus.ENDED:
            return []
        return await active_deals(self.rooms.session, self.rooms.clock, room_context(room.id))
