"""Orders: who may see them, and the named transitions, each writing an audit event and its money movement.

Every transition locks the order row first (``FOR UPDATE`` on PostgreSQL; SQLite serialises writers), so a buyer's
confirmation racing a dispute or the sweeper ends in one consistent state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role
from kernel.auth.models import User
from kernel.bus import Bus
from kernel.clock import Clock
from kernel.errors import Conflict, Forbidden, NotFound
from kernel.money import Money
from kernel.pagination import decode_cursor, encode_cursor
from kernel.settings import ShopSettings
from shop.catalog.products import CatalogService
from shop.events import ORDERS_TOPIC, OrderCompleted, OrderRefunded, StockChanged, product_topic
from shop.models import Order, OrderAction, OrderEvent, OrderLine, OrderStatus
from shop.money import escrow
from shop.money.gateway import PaymentGateway

S = OrderStatus
A = OrderAction


@dataclass(frozen=True)
class OrderView:
    order: Order
    lines: list[OrderLine]
    events: list[OrderEvent]
    buyer_name: str
    seller_name: str


class OrderService:
    def __init__(
        self, session: AsyncSession, clock: Clock, settings: ShopSettings, gateway: PaymentGateway, bus: Bus
    ) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.gateway = gateway
        self.bus = bus

    # Reading --------------------------------------------------------------------------------------------------
    async def visible(self, user: CurrentUser, order_id: UUID) -> Order:
        """The order if ``user`` is its buyer, its seller or an admin; otherwise it does not exist for them."""
        order = await self.session.get(Order, order_id)
        if order is None or not _may_see(user, order):
            raise NotFound("order_not_found", f"There is no order {order_id}.")
        return order

    async def view(self, order: Order) -> OrderView:
        return (await self.views([order]))[0]

    async def views(self, orders: list[Order]) -> list[OrderView]:
        ids = [o.id for o in orders]
        lines = list(
            await self.session.scalars(select(OrderLine).where(OrderLine.order_id.in_(ids)).order_by(OrderLine.id))
        )
        events = list(
            await self.session.scalars(
                select(OrderEvent).where(OrderEvent.order_id.in_(ids)).order_by(OrderEvent.at, OrderEvent.id)
            )
        )
        user_ids = {o.buyer_id for o in orders} | {o.seller_id for o in orders}
        names = dict(
            (await self.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))).all()
        )
        return [
            OrderView(
                o,
                [li for li in lines if li.order_id == o.id],
                [e for e in events if e.order_id == o.id],
                names.get(o.buyer_id, ""),
                names.get(o.seller_id, ""),
            )
            for o in orders
        ]

    async def list_for(
        self,
        user: CurrentUser,
        as_role: str = "buyer",
        status: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[Order], str | None]:
        """Newest first: the caller's purchases, or their sales with ``as_role="seller"``."""
        column = Order.seller_id if as_role == "seller" else Order.buyer_id
        query = select(Order).where(column == user.id)
        if status:
            query = query.where(Order.status == status)
        if cursor:
            (last_id,) = decode_cursor(cursor, UUID)
            query = query.where(Order.id < last_id)
        orders = list(await self.session.scalars(query.order_by(Order.id.desc()).limit(limit + 1)))
        more = len(orders) > limit
        orders = orders[:limit]
        return orders, encode_cursor(str(orders[-1].id)) if more else None

    # Transitions ----------------------------------------------------------------------------------------------
    async def locked(self, order_id: UUID) -> Order:
        order = await self.session.scalar(
            select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
        )
        if order is None:
            raise NotFound("order_not_found", f"There is no order {order_id}.")
        return order

    async def record(
        self, order: Order, action: OrderAction, actor: UUID | None, at: datetime | None = None, **detail: Any
    ) -> None:
        """Write the order's audit row for one transition: the only place an ``OrderEvent`` is made.

        Args:
            order: The order that changed.
            action: What happened to it.
            actor: Who did it; None for the sweeper.
            at: When, if the caller already stamped the change (checkout's orders are created at one instant);
                otherwise now.
            **detail: What the timeline shows beside the action (carrier, amount, reason ...), stored as JSON.
        """
        self.session.add(
            OrderEvent(
                order_id=order.id,
                action=action,
                actor_id=actor,
                at=at or self.clock.now(),
                detail=msgspec.to_builtins(detail),
            )
        )

    async def ship(self, seller: CurrentUser, order_id: UUID, carrier: str, tracking_number: str) -> Order:
        order = await self._locked_for(seller, order_id)
        if order.seller_id != seller.id:
            raise Forbidden("not_your_order", "Only the order's seller can ship it.")
        _expect(order, {S.PAID}, "ship")
        now = self.clock.now()
        order.status, order.carrier, order.tracking_number = S.SHIPPED, carrier.strip(), tracking_number.upper()
        order.shipped_at, order.ship_by = now, None
        order.auto_confirm_at = now + self.settings.auto_confirm_after
        await self.record(order, A.SHIPPED, seller.id, carrier=order.carrier, tracking_number=order.tracking_number)
        return order

    async def confirm_delivery(self, buyer: CurrentUser, order_id: UUID) -> Order:
        order = await self._locked_for(buyer, order_id)
        if order.buyer_id != buyer.id:
            raise Forbidden("not_your_order", "Only the buyer confirms delivery.")
        return await self.complete(order, buyer.id, A.DELIVERY_CONFIRMED)

    async def complete(self, order: Order, actor: UUID | None, action: OrderAction) -> Order:
        """Complete a delivered order and release its escrow (buyer's confirmation or the auto-confirm window)."""
        if order.released_at is not None or order.status not in (S.SHIPPED, S.PARTIALLY_REFUNDED):
            raise Conflict(
                "order_not_completable",
                f"An order that is {order.status} cannot be completed now.",
                order_status=order.status,
            )
        now = self.clock.now()
        lines = list(
            await self.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
        )
        await escrow.release(self.session, order, lines, now, self.settings.dispute_window)
        order.status = S.COMPLETED if order.refunded_minor == 0 else S.PARTIALLY_REFUNDED
        order.completed_at = order.released_at = now
        order.dispute_until = now + self.settings.dispute_window
        order.auto_confirm_at = None
        await self.record(order, action, actor)
        self.bus.after_commit(self.session, ORDERS_TOPIC, OrderCompleted(str(order.id), order.total))
        return order

    async def cancel(self, order: Order, actor: UUID | None, action: OrderAction, reason: str) -> Order:
        """Cancel an unshipped order: refund the buyer in full and put the stock back."""
        _expect(order, {S.PAID}, "cancel")
        await self.refund(order, order.refundable, actor)
        order.status, order.ship_by = S.CANCELLED, None
        catalog = CatalogService(self.session, self.settings.currency)
        for line in await self.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)):
            stock = await catalog.restock(line.product_id, line.quantity)
            self.bus.after_commit(
                self.session, product_topic(line.product_id), StockChanged(str(line.product_id), stock)
            )
        await self.record(order, action, actor, reason=reason)
        return order

    async def cancel_by_seller(self, seller: CurrentUser, order_id: UUID, reason: str) -> Order:
        order = await self._locked_for(seller, order_id)
        if order.seller_id != seller.id:
            raise Forbidden("not_your_order", "Only the order's seller can cancel it.")
        return await self.cancel(order, seller.id, A.CANCELLED_BY_SELLER, reason)

    async def refund(self, order: Order, amount: Money, actor: UUID | None) -> None:
        """Send ``amount`` back to the buyer, never more than was paid minus earlier refunds."""
        if amount.currency != order.currency or not 0 < amount.amount_minor <= order.refundable.amount_minor:
            raise Conflict(
                "refund_too_large",
                f"At most {order.refundable} can still be refunded on this order.",
                refundable=order.refundable,
            )
        await self.gateway.refund(order.charge_id, amount)
        await escrow.refund(self.session, order, amount, self.clock.now())
        order.refunded_minor += amount.amount_minor
        await self.record(order, A.REFUNDED, actor, amount=amount)
        self.bus.after_commit(
            self.session,
            ORDERS_TOPIC,
            OrderRefunded(str(order.id), amount, Money(order.refunded_minor, order.currency)),
        )

    async def _locked_for(self, user: CurrentUser, order_id: UUID) -> Order:
        order = await self.locked(order_id)
        if not _may_see(user, order):
            raise NotFound("order_not_found", f"There is no order {order_id}.")
        return order


def _may_see(user: CurrentUser, order: Order) -> bool:
    return user.has(Role.ADMIN) or user.id in (order.buyer_id, order.seller_id)


def _expect(order: Order, allowed: set[OrderStatus], action: str) -> None:
    if order.status not in allowed:
        raise Conflict("order_state", f"Cannot {action} an order that is {order.status}.", order_status=order.status)
