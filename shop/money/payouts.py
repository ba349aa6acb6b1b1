"""Payouts: every positive available balance is paid once per run, however many runs start at the same time.

A party's balance is what its payables (seller and creator) hold together, as ``GET /api/shop/balances`` shows it:
a claw-back that left one of them owing is kept back from what the other would pay out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import case, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.models import User
from kernel.clock import Clock
from kernel.money import Money
from shop.models import Payout, PayoutRun, Posting
from shop.money import ledger
from shop.money.gateway import PayoutGateway
from shop.money.ledger import EntryKind, Leg

# Runs take this PostgreSQL advisory lock for their transaction, so concurrent runs queue up and the second
# finds nothing left to pay. (SQLite's BEGIN IMMEDIATE already lets one writer in at a time.)
PAYOUT_LOCK_KEY = 0x4C43_5041_594F  # "LCPAYO"


@dataclass(frozen=True)
class PaidParty:
    party_id: str
    account: str
    amount: Money
    provider_ref: str


async def run(
    session: AsyncSession, clock: Clock, gateway: PayoutGateway, currency: str, run_by: UUID | None = None
) -> list[PaidParty]:
    """Pay every positive available balance once, and keep the run (``run_by``: the admin, None for the CLI)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PAYOUT_LOCK_KEY})
    now = clock.now()
    payout_run = PayoutRun(run_by=run_by, at=now)
    session.add(payout_run)
    await session.flush()
    matured = func.sum(case((Posting.available_at <= now, Posting.amount_minor), else_=0))
    rows = await session.execute(
        select(Posting.account, matured)
        .where(
            or_(Posting.account.like("seller_payable:%"), Posting.account.like("creator_payable:%")),
            Posting.currency == currency,
        )
        .group_by(Posting.account)
        .having(matured != 0)
        .order_by(Posting.account)
    )
    balances = [(account, account.split(":", 1)[1], -int(balance)) for account, balance in rows.all()]
    owed: dict[str, int] = defaultdict(int)  # per party, net of what any of its accounts owes back
    for _, party_id, balance in balances:
        owed[party_id] += balance
    paid = []
    for account, party_id, balance in balances:
        due = min(balance, owed[party_id])
        if due <= 0:
            continue
        owed[party_id] -= due
        amount = Money(due, currency)
        entry = await ledger.post(
            session,
            EntryKind.PAYOUT,
            [Leg(account, amount), Leg(ledger.PAYOUTS, -amount)],
            now,
            memo=f"payout to {party_id}",
        )
        reference = await gateway.pay(party_id, amount, reference=f"entry-{entry.id}")
        await ledger.post(
            session,
            EntryKind.PAYOUT_PAID,
            [Leg(ledger.PAYOUTS, amount), Leg(ledger.PROVIDER_CLEARING, -amount)],
            now,
            memo=reference,
        )
        session.add(
            Payout(
                party_id=UUID(party_id),
                account=account,
                amount_minor=amount.amount_minor,
                currency=currency,
                provider_ref=reference,
                at=now,
                run_id=payout_run.id,
            )
        )
        paid.append(PaidParty(party_id, account, amount, reference))
    payout_run.count = len(paid)
    await session.flush()
    return paid


@dataclass(frozen=True)
class RunSummary:
    """A past payout run: when, who started it (None: the operator's CLI), how many parties and how much."""

    id: UUID
    at: datetime
    run_by: UUID | None
    run_by_name: str
    count: int
    totals: list[Money]  # per currency; empty when the run paid nobody


async def history(session: AsyncSession, limit: int, after: tuple[datetime, UUID] | None = None) -> list[RunSummary]:
    """Payout runs, newest first; ``after`` is the (at, id) of the last run of the page before."""
    query = (
        select(PayoutRun, User.display_name)
        .outerjoin(User, User.id == PayoutRun.run_by)
        .order_by(PayoutRun.at.desc(), PayoutRun.id.desc())
        .limit(limit)
    )
    if after:
        at, run_id = after
        query = query.where((PayoutRun.at < at) | ((PayoutRun.at == at) & (PayoutRun.id < run_id)))
    runs = (await session.execute(query)).all()
    sums = await session.execute(
        select(Payout.run_id, Payout.currency, func.sum(Payout.amount_minor))
        .where(Payout.run_id.in_([r.id for r, _ in runs]))
        .group_by(Payout.run_id, Payout.currency)
        .order_by(Payout.currency)
    )
    totals: dict[UUID, list[Money]] = defaultdict(list)
    for run_id, currency, amount in sums:
        totals[run_id].append(Money(int(amount), currency))
    return [RunSummary(r.id, r.at, r.run_by, name or "", r.count, totals[r.id]) for r, name in runs]
