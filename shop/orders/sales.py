"""A seller's sales report: units, revenue and what the seller keeps, by product or by where buyers came from.

Read from the seller's own orders only (the query is scoped by ``Order.seller_id``), so no other seller's figures
can appear. Revenue is what buyers paid after coupons and refunds, spread over an order's lines the way the escrow
release spreads it; the seller's net comes from the one commission rule, so it matches what the ledger credits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.errors import RuleBroken
from kernel.money import Money, allocate
from shop.attribution.sales import COUNTED
from shop.models import Order, OrderLine
from shop.money.commissions import line_shares

MAX_DAYS = 400
DEFAULT_DAYS = 30


class SalesGroup(StrEnum):
    PRODUCT = "product"
    SOURCE = "source"


class SaleSource(StrEnum):
    """Where the buyer found a line: a live room, a post, a creator's link or coupon, or the shop itself."""

    ROOM = "room"
    POST = "post"
    CREATOR = "creator"
    DIRECT = "direct"


SOURCE_LABELS = {
    SaleSource.ROOM: "Live rooms",
    SaleSource.POST: "Posts",
    SaleSource.CREATOR: "Creators' links and coupons",
    SaleSource.DIRECT: "Direct (the shop)",
}


def source_of(line: OrderLine) -> SaleSource:
    found = line.source or {}
    if found.get("room_id"):
        return SaleSource.ROOM
    if found.get("post_id"):
        return SaleSource.POST
    if line.creator_id is not None:
        return SaleSource.CREATOR
    return SaleSource.DIRECT


@dataclass(frozen=True)
class SalesQuery:
    group_by: SalesGroup
    since: date
    until: date  # included

    @classmethod
    def parse(cls, group_by: str, since: str | None, until: str | None, today: date) -> SalesQuery:
        """Validate the parameters; the range defaults to the last 30 days and includes both ends."""
        try:
            group = SalesGroup(group_by)
        except ValueError:
            raise RuleBroken(
                "invalid_group_by",
                "group_by is product or source.",
                errors=[{"field": "group_by", "message": "product or source"}],
            ) from None
        last = _date(until, "to") if until else today
        first = _date(since, "from") if since else last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last or (last - first).days >= MAX_DAYS:
            raise RuleBroken(
                "invalid_range",
                f"The start must not be after the end, and a report covers at most {MAX_DAYS} days.",
                errors=[{"field": "from", "message": "a date on or before the end, at most 400 days before it"}],
            )
        return cls(group, first, last)


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RuleBroken(
            "invalid_date", f"{field} is a date like 2026-03-01.", errors=[{"field": field, "message": "YYYY-MM-DD"}]
        ) from None


@dataclass(frozen=True)
class SalesRow:
    key: str  # the product id, or the source
    label: str
    orders: int
    units: int
    revenue: Money  # paid by buyers, after coupons and refunds
    net: Money  # the seller's share of it, after platform and creator commission


async def seller_sales(
    session: AsyncSession, seller_id: UUID, query: SalesQuery, currency: str
) -> tuple[list[SalesRow], SalesRow]:
    """The seller's rows (biggest revenue first) and their total, for orders placed in the query's days (UTC)."""
    start = datetime.combine(query.since, time.min, UTC)
    end = datetime.combine(query.until + timedelta(days=1), time.min, UTC)
    rows = await session.execute(
        select(Order, OrderLine)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.seller_id == seller_id,
            Order.currency == currency,
            Order.status.in_(COUNTED),
            Order.created_at >= start,
            Order.created_at < end,
        )
        .order_by(Order.id, OrderLine.id)  # line id order: the order the escrow release reads them in
    )
    by_order: dict[UUID, tuple[Order, list[OrderLine]]] = {}
    for order, line in rows:
        by_order.setdefault(order.id, (order, []))[1].append(line)

    sums: dict[str, dict[str, Any]] = defaultdict(lambda: {"orders": set(), "units": 0, "revenue": 0, "net": 0})
    labels: dict[str, str] = {}
    for order, lines in by_order.values():
        kept = Money(order.total_minor - order.refunded_minor, currency)
        paid = allocate(kept, [line.amount_minor for line in lines])
        for line, revenue, share in zip(lines, paid, line_shares(kept, lines), strict=True):
            if query.group_by is SalesGroup.PRODUCT:
                key, label = str(line.product_id), line.title
            else:
                source = source_of(line)
                key, label = source.value, SOURCE_LABELS[source]
            labels.setdefault(key, label)
            row = sums[key]
            row["orders"].add(order.id)
            row["units"] += line.quantity
            row["revenue"] += revenue.amount_minor
            row["net"] += share.seller.amount_minor

    found = [
        SalesRow(
            key, labels[key], len(s["orders"]), s["units"], Money(s["revenue"], currency), Money(s["net"], currency)
        )
        for key, s in sums.items()
    ]
    found.sort(key=lambda r: (-r.revenue.amount_minor, r.label))
    total = SalesRow(
        "total",
        "Total",
        len(by_order),
        sum(r.units for r in found),
        Money(sum(r.revenue.amount_minor for r in found), currency),
        Money(sum(r.net.amount_minor for r in found), currency),
    )
    return found, total
