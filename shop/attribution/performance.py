"""What each of a creator's referral links and coupons brought: clicks, orders and sales (net of coupon discounts),
read from the touches and the line receipts, so the figures always agree with the rule's decisions."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.money import Money
from kernel.pagination import decode_cursor, encode_cursor
from shop.attribution.links import target_url
from shop.attribution.rule import Rule
from shop.attribution.schemas import CouponFiguresOut, CouponPage, LinkFiguresOut, LinkPage
from shop.attribution.touches import TouchKind
from shop.models import Coupon, LineAttribution, OrderLine, ReferralLink, Touch

_NET = OrderLine.unit_price_minor * OrderLine.quantity - LineAttribution.discount_minor


def _after(cursor: str | None) -> UUID | None:
    return decode_cursor(cursor, UUID)[0] if cursor else None


def _next(ids: list[UUID], limit: int) -> str | None:
    return encode_cursor(str(ids[-1])) if len(ids) == limit else None


async def link_page(
    session: AsyncSession, creator_id: UUID, currency: str, limit: int, cursor: str | None = None
) -> LinkPage:
    """``creator_id``'s links, newest first (``limit`` of them, after ``cursor``), with their figures.

    A line counts for a link when the rule credited it to the buyer's last click and that click (or the checkout's
    own ``ref``) came through the link: the receipt's winning candidate names the code.
    """
    query = select(ReferralLink).where(ReferralLink.creator_id == creator_id).order_by(ReferralLink.id.desc())
    if (after := _after(cursor)) is not None:
        query = query.where(ReferralLink.id < after)
    mine = list(await session.scalars(query.limit(limit)))
    if not mine:
        return LinkPage([], None)
    codes = {link.code for link in mine}
    counted = await session.execute(
        select(Touch.link_code, func.count())
        .where(Touch.link_code.in_(codes), Touch.kind == TouchKind.CLICK.value)
        .group_by(Touch.link_code)
    )
    clicks: dict[str, int] = {code: count for code, count in counted}
    orders: dict[str, set[UUID]] = defaultdict(set)
    sales: dict[str, int] = defaultdict(int)
    won = await session.execute(
        select(LineAttribution.order_id, LineAttribution.candidates, _NET)
        .join(OrderLine, OrderLine.id == LineAttribution.line_id)
        .where(
            LineAttribution.creator_id == creator_id,
            LineAttribution.rule == Rule.LAST_CLICK.value,
            # no link wins a sale decided before it existed: the oldest link listed bounds the receipts read
            LineAttribution.decided_at >= min(link.created_at for link in mine),
        )
    )
    for order_id, candidates, net in won:
        code = next((c.get("source", {}).get("ref") for c in candidates if c.get("won")), None)
        if code in codes:
            orders[code].add(order_id)
            sales[code] += net
    items = [
        LinkFiguresOut(
            code=link.code,
            url=f"/r/{link.code}",
            target=target_url(link),
            target_kind=link.target_kind,
            target_id=link.target_id,
            created_at=link.created_at,
            clicks=clicks.get(link.code, 0),
            orders=len(orders[link.code]),
            sales=Money(sales[link.code], currency),
        )
        for link in mine
    ]
    return LinkPage(items, _next([link.id for link in mine], limit))


async def coupon_page(
    session: AsyncSession, creator_id: UUID, currency: str, limit: int, cursor: str | None = None
) -> CouponPage:
    """``creator_id``'s coupons, newest first (``limit`` of them, after ``cursor``), each with the checkouts that
    used it and the sales they made after its discount."""
    query = select(Coupon).where(Coupon.creator_id == creator_id).order_by(Coupon.id.desc())
    if (after := _after(cursor)) is not None:
        query = query.where(Coupon.id < after)
    mine = list(await session.scalars(query.limit(limit)))
    used = await session.execute(
        select(LineAttribution.coupon_id, func.count(func.distinct(LineAttribution.order_id)), func.sum(_NET))
        .join(OrderLine, OrderLine.id == LineAttribution.line_id)
        .where(LineAttribution.coupon_id.in_([c.id for c in mine]))
        .group_by(LineAttribution.coupon_id)
    )
    found = {coupon_id: (times, int(total or 0)) for coupon_id, times, total in used}
    items = [
        CouponFiguresOut(
            id=c.id,
            code=c.code,
            discount_bps=c.discount_bps,
            status=c.status,
            created_at=c.created_at,
            times_used=found.get(c.id, (0, 0))[0],
            sales=Money(found.get(c.id, (0, 0))[1], currency),
        )
        for c in mine
    ]
    return CouponPage(items, _next([c.id for c in mine], limit))
