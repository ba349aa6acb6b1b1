"""The admin console's reads as output Structs, shared by its JSON API and its pages."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from kernel.money import Money
from kernel.pagination import decode_cursor, encode_cursor
from shop.money import ledger, payouts
from shop.schemas import (
    AccountBalanceOut,
    LedgerAccountOut,
    LedgerAccountsOut,
    PayoutRunsOut,
    PayoutRunSummaryOut,
    RunByOut,
    TrialBalanceOut,
)


async def trial_balance_out(session: AsyncSession, currency: str) -> TrialBalanceOut:
    rows = await ledger.trial_balance(session)
    totals = ledger.totals_by_currency(rows)
    total = next((t for t in totals if t.currency == currency), Money.zero(currency))
    return TrialBalanceOut([AccountBalanceOut(r.account, r.balance) for r in rows], total, totals)


def _ledger_account_out(row: ledger.AccountBalance) -> LedgerAccountOut:
    kind, _, owner = row.account.partition(":")
    return LedgerAccountOut(row.account, kind, owner or None, row.balance)


async def ledger_accounts_out(
    session: AsyncSession, kind: str | None, owner: UUID | None, limit: int, cursor: str | None
) -> LedgerAccountsOut:
    after = None
    if cursor:
        account, currency = decode_cursor(cursor, str, str)
        after = (account, currency)
    rows = await ledger.account_balances(session, kind or None, owner, limit + 1, after)
    more, rows = len(rows) > limit, rows[:limit]
    next_cursor = encode_cursor(rows[-1].account, rows[-1].balance.currency) if more else None
    return LedgerAccountsOut([_ledger_account_out(r) for r in rows], next_cursor)


async def payout_runs_out(session: AsyncSession, limit: int, cursor: str | None) -> PayoutRunsOut:
    after = None
    if cursor:
        at, run_id = decode_cursor(cursor, datetime.fromisoformat, UUID)
        after = (at, run_id)
    runs = await payouts.history(session, limit + 1, after)
    more, runs = len(runs) > limit, runs[:limit]
    items = [
        PayoutRunSummaryOut(r.id, r.at, RunByOut(r.run_by, r.run_by_name) if r.run_by else None, r.count, r.totals)
        for r in runs
    ]
    return PayoutRunsOut(items, encode_cursor(runs[-1].at.isoformat(), runs[-1].id) if more else None)
