"""Why-this-creator receipts: what the attribution rule decided for each order line, stored beside the line at
checkout and read back by marketers and admins."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec
from msgspec import Struct
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.errors import NotFound
from kernel.money import Money
from shop.attribution.rule import RULE_VERSION, Decision
from shop.models import Coupon, LineAttribution, Order, OrderLine


def store(
    session: AsyncSession,
    order: Order,
    lines: Sequence[tuple[OrderLine, Decision, Coupon | None, Money]],
) -> None:
    """Add one receipt per written line (the caller flushes with the order)."""
    session.add_all(
        LineAttribution(
            line_id=line.id,
            order_id=order.id,
            rule_version=RULE_VERSION,
            rule=decision.rule.value,
            creator_id=decision.creator_id,
            room_id=decision.room_id,
            post_id=decision.post_id,
            window_seconds=int(decision.window.total_seconds()),
            decided_at=order.created_at,
            coupon_id=coupon.id if coupon is not None else None,
            discount_minor=discount.amount_minor,
            candidates=decision.candidates,
        )
        for line, decision, coupon, discount in lines
    )


class LineReceiptOut(Struct):
    line_id: UUID
    product_id: UUID
    title: str
    quantity: int
    amount: Money
    discount: Money
    creator_id: UUID | None
    affiliate_rate_bps: int
    rule_version: int
    rule: str  # coupon | live_room | last_click | none
    window_seconds: int
    decided_at: str  # RFC 3339 with ``+00:00`` (the rest of the API writes ``Z``): published so, kept so for now
    candidates: list[dict]  # each: kind, rule, creator_id, at, source, won, why


class OrderReceiptOut(Struct):
    order_id: UUID
    buyer_id: UUID
    seller_id: UUID
    created_at: str  # as ``decided_at``
    lines: list[LineReceiptOut]


class CreatorReceiptOut(Struct):
    """An order's receipt as one of its creators sees it: only the lines credited to them, and of the candidates
    that lost, what they were and why, without naming the other creators or their sources."""

    order_id: UUID
    created_at: str  # as ``decided_at``
    lines: list[LineReceiptOut]


def for_creator(receipt: OrderReceiptOut, creator_id: UUID) -> CreatorReceiptOut:
    """``receipt`` narrowed to ``creator_id``'s lines; NotFound (as for any order) when none is theirs."""
    mine = str(creator_id)
    lines = [
        msgspec.structs.replace(line, candidates=[_as_seen_by(c, mine) for c in line.candidates])
        for line in receipt.lines
        if line.creator_id == creator_id
    ]
    if not lines:
        raise NotFound("order_not_found", f"There is no order {receipt.order_id}.")
    return CreatorReceiptOut(order_id=receipt.order_id, created_at=receipt.created_at, lines=lines)


def _as_seen_by(candidate: dict, creator_id: str) -> dict:
    if candidate.get("creator_id") == creator_id:
        return {**candidate, "yours": True}
    return {**candidate, "creator_id": None, "source": {}, "yours": False}


async def for_order(session: AsyncSession, order_id: UUID) -> OrderReceiptOut:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("order_not_found", f"There is no order {order_id}.")
    rows = await session.execute(
        select(OrderLine, LineAttribution)
        .outerjoin(LineAttribution, LineAttribution.line_id == OrderLine.id)
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.id)
    )
    lines = []
    for line, receipt in rows:
        amount = Money(line.amount_minor, order.currency)
        if receipt is None:  # sold before receipts were kept
            discount, rule, version, window, decided, candidates = 0, "unrecorded", 0, 0, order.created_at, []
        else:
            discount, rule, version = receipt.discount_minor, receipt.rule, receipt.rule_version
            window, decided, candidates = receipt.window_seconds, receipt.decided_at, receipt.candidates
        lines.append(
            LineReceiptOut(
                line_id=line.id,
                product_id=line.product_id,
                title=line.title,
                quantity=line.quantity,
                amount=amount,
                discount=Money(discount, order.currency),
                creator_id=line.creator_id,
                affiliate_rate_bps=line.affiliate_rate_bps,
                rule_version=version,
                rule=rule,
                window_seconds=window,
                decided_at=decided.isoformat(),
                candidates=candidates,
            )
        )
    return OrderReceiptOut(
        order_id=order.id,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        created_at=order.created_at.isoformat(),
        lines=lines,
    )
