"""The double-entry ledger: balanced journal entries, balances as sums of postings, the trial balance.

Accounts are named strings. Debits are positive and credits negative, so every entry sums to zero and so does the
whole ledger. Money we hold for someone (escrow, payables) therefore has a negative balance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.errors import RuleBroken
from kernel.money import Money
from shop.models import JournalEntry, Order, Posting

PROVIDER_CLEARING = "provider_clearing"  # money the payment provider holds for us
PLATFORM_REVENUE = "platform_revenue"
REFUNDS = "refunds"  # refunds approved and not yet sent back through the provider
PAYOUTS = "payouts"  # payouts approved and not yet sent through the payout provider


class EntryKind(StrEnum):
    """What a journal entry records; stored in ``JournalEntry.kind``."""

    HOLD = "hold"  # the charge captured into the order's escrow
    RELEASE = "release"  # escrow split between seller, platform and creators at completion
    REFUND = "refund"  # a refund approved: taken from escrow, or clawed back from the shares after release
    REFUND_PAID = "refund_paid"  # the approved refund sent back through the payment provider
    PAYOUT = "payout"  # a payable emptied into a payout
    PAYOUT_PAID = "payout_paid"  # the payout sent through the payout provider


# Every account is one of these: the platform's own by name, or ``kind:owner`` (an order's escrow, a party's payable).
OWNED_KINDS = ("escrow", "seller_payable", "creator_payable")
ACCOUNT_KINDS = (*OWNED_KINDS, PLATFORM_REVENUE, PROVIDER_CLEARING, REFUNDS, PAYOUTS)


def escrow(order_id: UUID) -> str:
    return f"escrow:{order_id}"


def seller_payable(user_id: UUID | str) -> str:
    return f"seller_payable:{user_id}"


def creator_payable(user_id: UUID | str) -> str:
    return f"creator_payable:{user_id}"


def party_accounts(user_id: UUID | str) -> tuple[str, str]:
    return seller_payable(user_id), creator_payable(user_id)


@dataclass(frozen=True)
class Leg:
    """One posting to be written: ``amount`` is positive for a debit, negative for a credit."""

    account: str
    amount: Money
    available_at: datetime | None = None


class UnbalancedEntry(AssertionError):
    """A journal entry whose postings do not sum to zero: a programming error, never a user's."""


async def post(
    session: AsyncSession,
    kind: EntryKind,
    legs: Iterable[Leg],
    at: datetime,
    order_id: UUID | None = None,
    memo: str = "",
) -> JournalEntry:
    """Write one balanced entry in the caller's transaction; zero-amount legs are left out."""
    legs = [leg for leg in legs if leg.amount.amount_minor != 0]
    sums: dict[str, int] = defaultdict(int)
    for leg in legs:
        sums[leg.amount.currency] += leg.amount.amount_minor
    if any(sums.values()):
        raise UnbalancedEntry(f"{kind} entry does not balance: {dict(sums)}")
    entry = JournalEntry(kind=kind, order_id=order_id, at=at, memo=memo)
    session.add(entry)
    await session.flush()
    session.add_all(
        Posting(
            entry_id=entry.id,
            account=leg.account,
            amount_minor=leg.amount.amount_minor,
            currency=leg.amount.currency,
            available_at=leg.available_at or at,
        )
        for leg in legs
    )
    await session.flush()
    return entry


@dataclass(frozen=True)
class AccountBalance:
    account: str
    balance: Money


async def trial_balance(session: AsyncSession) -> list[AccountBalance]:
    """Every account's balance; the balances of each currency sum to zero."""
    rows = await session.execute(
        select(Posting.account, Posting.currency, func.sum(Posting.amount_minor))
        .group_by(Posting.account, Posting.currency)
        .order_by(Posting.account, Posting.currency)
    )
    return [AccountBalance(account, Money(int(total), currency)) for account, currency, total in rows]


def totals_by_currency(balances: Iterable[AccountBalance]) -> list[Money]:
    """The sum of ``balances`` in each currency, by currency: every one is zero when the books balance."""
    sums: dict[str, int] = defaultdict(int)
    for row in balances:
        sums[row.balance.currency] += row.balance.amount_minor
    return [Money(amount, currency) for currency, amount in sorted(sums.items())]


async def account_balances(
    session: AsyncSession, kind: str | None, owner: UUID | None, limit: int, after: tuple[str, str] | None = None
) -> list[AccountBalance]:
    """Accounts' balances by account name and currency, optionally of one kind or one owner; ``after`` is the last
    (account, currency) of the page before."""
    query = (
        select(Posting.account, Posting.currency, func.sum(Posting.amount_minor))
        .group_by(Posting.account, Posting.currency)
        .order_by(Posting.account, Posting.currency)
        .limit(limit)
    )
    if kind and kind not in ACCOUNT_KINDS:
        raise RuleBroken(
            "unknown_account_kind",
            f"Account kinds are {', '.join(ACCOUNT_KINDS)}.",
            errors=[{"field": "kind", "message": "unknown account kind"}],
        )
    if kind:
        query = query.where(Posting.account.like(f"{kind}:%") if kind in OWNED_KINDS else Posting.account == kind)
    if owner:
        query = query.where(Posting.account.like(f"%:{owner}"))
    if after:
        account, currency = after
        query = query.where(
            (Posting.account > account) | ((Posting.account == account) & (Posting.currency > currency))
        )
    rows = await session.execute(query)
    return [AccountBalance(account, Money(int(total), currency)) for account, currency, total in rows]


@dataclass(frozen=True)
class PartyBalance:
    """What the platform owes one seller or creator, by when it may be paid out."""

    pending: Money  # released from escrow, still inside the dispute window
    available: Money  # may be paid out now (negative after a claw-back, netted against later earnings)
    paid_out: Money


async def party_balance(session: AsyncSession, accounts: Iterable[str], currency: str, now: datetime) -> PartyBalance:
    accounts = list(accounts)
    matured = case((Posting.available_at <= now, Posting.amount_minor), else_=0)
    later = case((Posting.available_at > now, Posting.amount_minor), else_=0)
    paid = case((JournalEntry.kind == EntryKind.PAYOUT, Posting.amount_minor), else_=0)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(matured), 0), func.coalesce(func.sum(later), 0), func.coalesce(func.sum(paid), 0)
            )
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account.in_(accounts), Posting.currency == currency)
        )
    ).one()
    # Payables are credits (negative); the party sees them as positive amounts owed to it.
    return PartyBalance(
        pending=Money(-int(row[1]), currency),
        available=Money(-int(row[0]), currency),
        paid_out=Money(int(row[2]), currency),
    )


async def seller_escrow(session: AsyncSession, seller_id: UUID, currency: str) -> Money:
    """What buyers have paid for this seller's orders that escrow still holds (not yet released or refunded)."""
    held = await session.scalar(
        select(func.coalesce(func.sum(Posting.amount_minor), 0))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Order, Order.id == JournalEntry.order_id)
        .where(Order.seller_id == seller_id, Posting.account.like("escrow:%"), Posting.currency == currency)
    )
    return Money(-int(held), currency)


@dataclass(frozen=True)
class PartyPosting:
    """One movement on a party's payable, as the party sees it: positive when it is owed more."""

    at: datetime
    kind: str  # the journal entry's kind (an EntryKind value): release, refund, payout
    entry_id: UUID
    order_id: UUID | None
    account: str
    amount: Money
    available_at: datetime


async def party_postings(session: AsyncSession, accounts: Iterable[str], limit: int = 200) -> list[PartyPosting]:
    """The latest postings to ``accounts`` (a party's payables), newest first, with their entry's kind and order."""
    rows = await session.execute(
        select(
            JournalEntry.at,
            JournalEntry.kind,
            JournalEntry.id,
            JournalEntry.order_id,
            Posting.account,
            Posting.amount_minor,
            Posting.currency,
            Posting.available_at,
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.account.in_(list(accounts)))
        .order_by(JournalEntry.at.desc(), Posting.id.desc())
        .limit(limit)
    )
    return [
        PartyPosting(at, kind, entry_id, order_id, account, Money(-amount, currency), available_at)
        for at, kind, entry_id, order_id, account, amount, currency, available_at in rows
    ]


@dataclass(frozen=True)
class FeeBreakdown:
    """How one release (or claw-back) entry of a sale divides its amount, read from the entry's own postings.

    ``price`` is what left escrow (or, negative, what went back to the buyer); the other three are the shares
    credited (or taken back). The entry is balanced, so ``price == platform + creators + seller`` exactly.
    """

    price: Money
    platform: Money
    creators: Money
    seller: Money


SHARED_KINDS = (EntryKind.RELEASE, EntryKind.REFUND)


async def fee_breakdowns(session: AsyncSession, entry_ids: Iterable[UUID]) -> dict[UUID, FeeBreakdown]:
    """The breakdown of each release or refund entry among ``entry_ids`` (others are left out)."""
    rows = await session.execute(
        select(Posting.entry_id, Posting.account, Posting.amount_minor, Posting.currency)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(Posting.entry_id.in_(list(entry_ids)), JournalEntry.kind.in_(SHARED_KINDS))
    )
    shares: dict[UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    currencies: dict[UUID, str] = {}
    for entry_id, account, amount, currency in rows:
        if account == PLATFORM_REVENUE:
            part = "platform"
        elif account.startswith("creator_payable:"):
            part = "creators"
        elif account.startswith("seller_payable:"):
            part = "seller"
        else:  # escrow on release, refunds on a claw-back: the sale's side of the entry
            part = "price"
        # Shares are credits (negative) and the sale's side a debit: flip the shares so all read as the seller does.
        shares[entry_id][part] += amount if part == "price" else -amount
        currencies[entry_id] = currency
    return {
        entry_id: FeeBreakdown(
            *(Money(parts[part], currencies[entry_id]) for part in ("price", "platform", "creators", "seller"))
        )
        for entry_id, parts in shares.items()
    }
