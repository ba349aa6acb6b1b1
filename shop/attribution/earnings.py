"""A creator's commission per order line through its life, read from the ledger (never stored apart from it).

``pending`` while the buyer's money is in escrow, ``approved`` once the order completes (the release credited the
creator's payable), ``payable`` when the dispute window has passed, ``paid`` once a payout after that date emptied
the payable, and ``reversed`` when refunds took it all back (a partial refund lowers ``amount`` and shows in
``reversed`` pro rata). The release and claw-back postings are per order; lines share them by their commission.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.money import Money, allocate
from shop.attribution.schemas import EarningOut, EarningsOut
from shop.models import JournalEntry, LineAttribution, Order, OrderLine, OrderStatus, Posting
from shop.money import ledger
from shop.money.commissions import creator_commissions
from shop.money.ledger import EntryKind

LIMIT = 200
REASONS = {
    "coupon": "your coupon was used at checkout",
    "live_room": "bought in your live room",
    "last_click": "the buyer's last click before buying was yours",
}
CANCELLED = {OrderStatus.CANCELLED.value, OrderStatus.REFUNDED.value}


@dataclass(frozen=True)
class _Movements:
    released: int = 0  # credited to the creator's payable at completion
    clawed: int = 0  # taken back by refunds after completion
    released_at: datetime | None = None
    available_at: datetime | None = None
    reversed_at: datetime | None = None


async def creator_earnings(session: AsyncSession, creator_id: UUID, now: datetime, currency: str) -> EarningsOut:
    """The creator's newest credited lines (up to 200), each with its amount, state, payable date and reason."""
    account = ledger.creator_payable(creator_id)
    mine = (
        await session.execute(
            select(OrderLine, Order, LineAttribution)
            .join(Order, Order.id == OrderLine.order_id)
            .outerjoin(LineAttribution, LineAttribution.line_id == OrderLine.id)
            .where(OrderLine.creator_id == creator_id)
            .order_by(Order.created_at.desc(), OrderLine.id)
            .limit(LIMIT)
        )
    ).all()
    order_ids = {order.id for _, order, _ in mine}
    every_line: dict[UUID, list[OrderLine]] = defaultdict(list)
    for line in await session.scalars(
        select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)
    ):
        every_line[line.order_id].append(line)
    movements = await _movements(session, account, order_ids)
    paid_at = await _payouts(session, account)
    out = [
        _earning(line, order, receipt, every_line[order.id], creator_id, movements.get(order.id), paid_at, now)
        for line, order, receipt in mine
    ]
    total = sum((e.amount for e in out), Money.zero(currency))
    return EarningsOut(lines=out, total=total)


def _earning(
    line: OrderLine,
    order: Order,
    receipt: LineAttribution | None,
    lines: list[OrderLine],
    creator_id: UUID,
    moved: _Movements | None,
    paid_at: list[datetime],
    now: datetime,
) -> EarningOut:
    currency = order.currency
    expected = _commissions(order.total, lines)
    mine = [x.id for x in lines if x.creator_id == creator_id]
    weights = [expected[x] for x in mine]
    index = mine.index(line.id)
    if moved is not None and moved.released_at is not None:
        amount = _share(moved.released, weights, index, currency)
        reversed_ = _share(moved.clawed, weights, index, currency)
        amount -= reversed_
        payable_at = moved.available_at
        if amount <= 0 < reversed_:
            state = "reversed"
        elif now < payable_at:
            state = "approved"
        elif any(at >= payable_at for at in paid_at):
            state = "paid"
        else:
            state = "payable"
    else:  # still in escrow, or refunded before completion: what the amount still held would earn
        held = order.total_minor - order.refunded_minor
        amount = _commissions(Money(held, currency), lines)[line.id] if held > 0 else 0
        reversed_, payable_at = expected[line.id] - amount, None
        state = "reversed" if order.status in CANCELLED or amount <= 0 < reversed_ else "pending"
    rule = receipt.rule if receipt is not None else "unrecorded"
    return EarningOut(
        order_id=order.id,
        line_id=line.id,
        product_id=line.product_id,
        title=line.title,
        amount=Money(amount, currency),
        reversed=Money(reversed_, currency),
        state=state,
        payable_at=payable_at.isoformat() if payable_at else None,
        reason=REASONS.get(rule, rule),
        sold_at=order.created_at.isoformat(),
    )


def _commissions(held: Money, lines: list[OrderLine]) -> dict[UUID, int]:
    """Each line's creator commission out of ``held``, by line id: the rule the escrow release pays by."""
    return {x.id: c.amount_minor for x, c in zip(lines, creator_commissions(held, lines), strict=True)}


def _share(total: int, weights: list[int], index: int, currency: str) -> int:
    """This line's part of an order-level posting, in proportion to the creator's lines' commissions."""
    if total == 0:
        return 0
    if sum(weights) == 0:
        weights = [1] * len(weights)
    return allocate(Money(total, currency), weights)[index].amount_minor


async def _movements(session: AsyncSession, account: str, order_ids: set[UUID]) -> dict[UUID, _Movements]:
    """Per order: what the release credited to ``account``, what refunds took back, and when."""
    rows = await session.execute(
        select(JournalEntry.order_id, JournalEntry.kind, JournalEntry.at, Posting.amount_minor, Posting.available_at)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account == account, JournalEntry.order_id.in_(order_ids))
        .order_by(JournalEntry.id)
    )
    found: dict[UUID, dict] = defaultdict(lambda: {"released": 0, "clawed": 0})
    for order_id, kind, at, amount, available_at in rows:
        moved = found[order_id]
        if kind == EntryKind.RELEASE:
            moved.update(released=moved["released"] - amount, released_at=at, available_at=available_at)
        elif kind == EntryKind.REFUND:
            moved.update(clawed=moved["clawed"] + amount, reversed_at=at)
    return {order_id: _Movements(**moved) for order_id, moved in found.items()}


async def _payouts(session: AsyncSession, account: str) -> list[datetime]:
    """When payouts emptied ``account``: each pays everything that had matured by then."""
    rows = await session.scalars(
        select(JournalEntry.at)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account == account, JournalEntry.kind == EntryKind.PAYOUT)
    )
    return list(rows)
