"""The double-entry ledger's entries and postings, and payouts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from advanced_alchemy.base import BigIntBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import MinorUnits


class JournalEntry(BigIntBase):
    """A balanced money movement; its postings sum to zero. Never updated or deleted."""

    __tablename__ = "shop_journal_entry"

    kind: Mapped[str] = mapped_column(String(30))
    order_id: Mapped[UUID | None] = mapped_column(ForeignKey("shop_order.id"), default=None, index=True)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    memo: Mapped[str] = mapped_column(String(200), default="")


class Posting(BigIntBase):
    """One side of a journal entry: a signed amount on one account (debits positive, credits negative)."""

    __tablename__ = "shop_posting"
    __table_args__ = (Index("ix_shop_posting_account_available", "account", "available_at"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("shop_journal_entry.id"), index=True)
    account: Mapped[str] = mapped_column(String(80))
    amount_minor: Mapped[MinorUnits]
    currency: Mapped[str] = mapped_column(String(3))
    # For payables: when this amount may be paid out (the end of the order's dispute window).
    available_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class PayoutRun(UUIDv7Base):
    """One payout run, kept even when it paid nobody: when, who started it, how many parties it paid."""

    __tablename__ = "shop_payout_run"

    run_by: Mapped[UUID | None] = mapped_column(ForeignKey("auth_user.id"), default=None)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    count: Mapped[int] = mapped_column(default=0)


class Payout(UUIDv7Base):
    __tablename__ = "shop_payout"

    party_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    account: Mapped[str] = mapped_column(String(80))
    amount_minor: Mapped[MinorUnits] = mapped_column(CheckConstraint("amount_minor > 0", name="amount_positive"))
    currency: Mapped[str] = mapped_column(String(3))
    provider_ref: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    run_id: Mapped[UUID | None] = mapped_column(ForeignKey("shop_payout_run.id"), default=None, index=True)
