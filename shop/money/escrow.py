"""Escrow: the buyer's money is held per order, released in shares at completion, refunded or clawed back.

Each function writes one balanced journal entry (two for a refund: approval, then payment back) in the caller's
transaction; callers hold the order row locked.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.money import Money, allocate
from shop.models import JournalEntry, Order, OrderLine, Posting
from shop.money import ledger
from shop.money.commissions import split
from shop.money.ledger import EntryKind, Leg


async def hold(session: AsyncSession, order: Order, at: datetime) -> None:
    """The charge captured for ``order`` sits in its escrow account."""
    await ledger.post(
        session,
        EntryKind.HOLD,
        [Leg(ledger.PROVIDER_CLEARING, order.total), Leg(ledger.escrow(order.id), -order.total)],
        at,
        order.id,
    )


async def release(
    session: AsyncSession, order: Order, lines: Sequence[OrderLine], at: datetime, dispute_window: timedelta
) -> None:
    """Move what escrow still holds to the seller, platform and creators; payables mature after the window.

    ``lines`` come in id order, the order the reports read them in, so rounding remainders land on the same lines.
    """
    held = order.refundable
    shares = split(held, lines)
    matures = at + dispute_window
    legs = [
        Leg(ledger.escrow(order.id), held),
        Leg(ledger.seller_payable(order.seller_id), -shares.seller, matures),
        Leg(ledger.PLATFORM_REVENUE, -shares.platform),
        *(Leg(ledger.creator_payable(creator), -amount, matures) for creator, amount in shares.creators.items()),
    ]
    await ledger.post(session, EntryKind.RELEASE, legs, at, order.id)


async def refund(session: AsyncSession, order: Order, amount: Money, at: datetime) -> None:
    """Return ``amount`` to the buyer: from escrow before release, pro rata from every share after it.

    The caller has checked that ``amount`` does not exceed ``order.refundable``.
    """
    if order.released_at is None:
        sources = [Leg(ledger.escrow(order.id), amount)]
    else:
        sources = await _claw_back(session, order, amount, at)
    await ledger.post(session, EntryKind.REFUND, [*sources, Leg(ledger.REFUNDS, -amount)], at, order.id)
    await ledger.post(
        session,
        EntryKind.REFUND_PAID,
        [Leg(ledger.REFUNDS, amount), Leg(ledger.PROVIDER_CLEARING, -amount)],
        at,
        order.id,
    )


async def _claw_back(session: AsyncSession, order: Order, amount: Money, at: datetime) -> list[Leg]:
    """Debit each account the release credited, in proportion to what it still holds of this order.

    Proportions come from each share minus earlier claw-backs, so rounding over many partial refunds never takes
    more from one party than it received, and the last refund empties every share exactly. A claw-back from a
    payable that has not matured yet reduces the pending amount, not the available one.
    """
    rows = (
        await session.execute(
            select(Posting.account, Posting.amount_minor, Posting.available_at)
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(JournalEntry.order_id == order.id, JournalEntry.kind == EntryKind.RELEASE, Posting.amount_minor < 0)
            .order_by(Posting.id)
        )
    ).all()
    taken = dict(
        (
            await session.execute(
                select(Posting.account, func.sum(Posting.amount_minor))
                .join(JournalEntry, JournalEntry.id == Posting.entry_id)
                .where(
                    JournalEntry.order_id == order.id,
                    JournalEntry.kind == EntryKind.REFUND,
                    Posting.account.in_([account for account, _, _ in rows]),
                )
                .group_by(Posting.account)
            )
        ).all()
    )
    parts = allocate(amount, [-share - int(taken.get(account) or 0) for account, share, _ in rows])
    return [
        Leg(account, part, max(available_at, at)) for (account, _, available_at), part in zip(rows, parts, strict=True)
    ]
