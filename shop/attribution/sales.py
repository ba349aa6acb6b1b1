"""Attributed sales per creator over a period, for rankings outside shop (the community leaderboard)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.models import Order, OrderLine, OrderStatus

# Orders whose money is (still) the buyer's payment for goods; cancelled, refunded and disputed ones are not sales.
COUNTED = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED)


async def creator_net_sales(session: AsyncSession, since: datetime, until: datetime) -> dict[UUID, int]:
    """Net sales (minor units, shop currency) of the lines credited to each creator in ``[since, until)``.

    A line counts on the order's creation time; a partial refund reduces each line of its order pro rata
    (rounded down), so a creator never ranks on money that went back to the buyer.
    """
    rows = await session.execute(
        select(
            OrderLine.creator_id,
            OrderLine.unit_price_minor * OrderLine.quantity,
            Order.total_minor,
            Order.refunded_minor,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            OrderLine.creator_id.is_not(None),
            Order.status.in_(COUNTED),
            Order.created_at >= since,
            Order.created_at < until,
        )
    )
    totals: dict[UUID, int] = defaultdict(int)
    for creator_id, amount, order_total, refunded in rows:
        kept = order_total - refunded
        totals[creator_id] += amount * kept // order_total if order_total else 0
    return dict(totals)


async def units_by_source(session: AsyncSession, key: str, since: datetime, until: datetime) -> dict[str, int]:
    """Units sold in ``[since, until)`` on lines whose checkout source names ``key`` (``"post_id"``, ``"room_id"``),
    summed per value of that key: the sales a post or a room brought in, for rankings such as trending."""
    source_value = OrderLine.source[key].as_string()
    rows = await session.execute(
        select(source_value, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(
            source_value.is_not(None),
            Order.status.in_(COUNTED),
            Order.created_at >= since,
            Order.created_at < until,
        )
        .group_by(source_value)
    )
    return {str(value): int(units) for value, units in rows}
