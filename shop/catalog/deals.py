"""Deals: a limited-time price for a limited quantity of one product, bought through checkout.

The money side of live deals. A deal's ``context`` names where it may be found (``{"room_id": ...}``); checkout
carries it as the line's source. ``remaining`` only ever goes down by one conditional UPDATE in the buyer's
checkout transaction, so a deal is never oversold, and a deal ends when its clock says so: no sweeper.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from msgspec import Struct
from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from kernel.errors import Conflict, NotFound, RuleBroken
from kernel.money import Money
from shop.models import Deal, Order, OrderLine, OrderStatus, Product

# A deal is a moment in a show, not a standing discount.
MAX_DEAL_LENGTH = timedelta(hours=24)


class DealInfo(Struct, frozen=True):
    """A deal as other domains see it."""

    id: UUID
    product_id: UUID
    price: Money
    quantity: int
    remaining: int
    per_buyer_limit: int
    starts_at: datetime
    ends_at: datetime
    context: dict[str, Any]


def _info(deal: Deal) -> DealInfo:
    return DealInfo(
        deal.id,
        deal.product_id,
        deal.price,
        deal.quantity,
        deal.remaining,
        deal.per_buyer_limit,
        deal.starts_at,
        deal.ends_at,
        dict(deal.context),
    )


def _in_context(context: dict[str, str]) -> Any:
    return and_(*(Deal.context[key].as_string() == value for key, value in context.items()))


async def create_deal(
    session: AsyncSession,
    clock: Clock,
    *,
    product_id: UUID,
    price: Money,
    quantity: int,
    ends_at: datetime,
    per_buyer_limit: int,
    context: dict[str, str],
    created_by: UUID,
) -> DealInfo:
    """Start a deal now. Refused (422) unless it is cheaper than the product, within its stock and ends within
    ``MAX_DEAL_LENGTH``; 409 while another deal on the product runs in the same context."""
    now = clock.now()
    product = await session.get(Product, product_id)
    if product is None or product.archived_at is not None:
        raise RuleBroken(
            "unknown_product",
            f"There is no product {product_id}.",
            errors=[{"field": "product_id", "message": "unknown product"}],
        )
    if price.currency != product.currency:
        raise RuleBroken(
            "currency_mismatch",
            f"The product is priced in {product.currency}; price the deal in it too.",
            errors=[{"field": "price.currency", "message": f"must be {product.currency}"}],
        )
    if price.amount_minor >= product.price_minor:
        raise RuleBroken(
            "deal_price_not_lower",
            f"A deal must be cheaper than the product's price of {product.price}.",
            errors=[{"field": "price.amount_minor", "message": "not below the product's price"}],
        )
    if quantity > product.stock:
        raise RuleBroken(
            "deal_exceeds_stock",
            f"Only {product.stock} in stock; a deal cannot offer more.",
            errors=[{"field": "quantity", "message": f"more than the {product.stock} in stock"}],
        )
    if not now < ends_at <= now + MAX_DEAL_LENGTH:
        raise RuleBroken(
            "bad_deal_end",
            "A deal ends in the future and within 24 hours.",
            errors=[{"field": "ends_at", "message": "not in the next 24 hours"}],
        )
    running = await session.scalar(
        select(Deal.id).where(
            Deal.product_id == product_id, Deal.ends_at > now, Deal.remaining > 0, _in_context(context)
        )
    )
    if running is not None:
        raise Conflict(
            "deal_running", "A deal on this product is already running here; let it end first.", deal_id=str(running)
        )
    deal = Deal(
        product_id=product_id,
        price_minor=price.amount_minor,
        currency=price.currency,
        quantity=quantity,
        remaining=quantity,
        per_buyer_limit=per_buyer_limit,
        starts_at=now,
        ends_at=ends_at,
        context=context,
        created_by=created_by,
    )
    session.add(deal)
    await session.flush()
    return _info(deal)


async def get_deal(session: AsyncSession, deal_id: UUID) -> DealInfo:
    deal = await session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("deal_not_found", f"There is no deal {deal_id}.")
    return _info(deal)


async def active_deals(session: AsyncSession, clock: Clock, context: dict[str, str]) -> list[DealInfo]:
    """Deals in ``context`` that have not ended (sold-out ones included, so a page can say so), newest first."""
    deals = await session.scalars(
        select(Deal).where(Deal.ends_at > clock.now(), _in_context(context)).order_by(Deal.starts_at.desc())
    )
    return [_info(d) for d in deals]


async def end_deals_for(session: AsyncSession, clock: Clock, context: dict[str, str]) -> int:
    """End every running deal in ``context`` now (e.g. when the room ends); returns how many ended."""
    now = clock.now()
    result = await session.execute(
        update(Deal).where(Deal.ends_at > now, _in_context(context)).values(ends_at=now).returning(Deal.id)
    )
    return len(result.all())


async def take(session: AsyncSession, deal: Deal, quantity: int, now: datetime) -> int:
    """Take ``quantity`` from the deal in one conditional UPDATE, in the checkout's transaction; returns what is
    left. 422 ``deal_ended`` once its time is up, 409 ``deal_sold_out`` when fewer than ``quantity`` remain."""
    left = await session.scalar(
        update(Deal)
        .where(Deal.id == deal.id, Deal.remaining >= quantity, Deal.ends_at > now)
        .values(remaining=Deal.remaining - quantity)
        .returning(Deal.remaining)
    )
    if left is not None:
        return left
    await session.refresh(deal)  # it may have been ended (its room ended) since checkout read it
    if deal.ends_at <= now:
        raise _ended(deal)
    raise Conflict(
        "deal_sold_out",
        f"The deal has fewer than {quantity} left; nothing was reserved or charged.",
        deal_id=str(deal.id),
    )


async def bought_by(session: AsyncSession, deal_id: UUID, buyer_id: UUID) -> int:
    """Units of the deal this buyer already holds (cancelled orders do not count)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.deal_id == deal_id, Order.buyer_id == buyer_id, Order.status != OrderStatus.CANCELLED)
    )
    return int(total or 0)


def check_open(deal: Deal, product_id: UUID, now: datetime, field: str) -> None:
    """A checkout line may use ``deal`` for ``product_id`` now, or a 422 naming ``field``."""
    if deal.product_id != product_id:
        raise RuleBroken(
            "deal_product_mismatch",
            f"Deal {deal.id} is for another product.",
            errors=[{"field": field, "message": "the deal is for another product"}],
        )
    if not deal.starts_at <= now < deal.ends_at:
        raise _ended(deal)


def check_limit(deal: Deal, already: int, quantity: int) -> None:
    if already + quantity > deal.per_buyer_limit:
        raise RuleBroken(
            "deal_limit",
            f"This deal allows {deal.per_buyer_limit} per buyer and you already have {already}.",
            deal_id=str(deal.id),
            per_buyer_limit=deal.per_buyer_limit,
        )


def _ended(deal: Deal) -> RuleBroken:
    return RuleBroken(
        "deal_ended", "This deal has ended; the product may still be bought at its price.", deal_id=str(deal.id)
    )
