"""Charge intents: a checkout records that it is about to charge, and commits that, before it asks the provider.

Checkout charges inside the transaction that writes the orders, so a crash between the charge and the commit
would leave the buyer charged with no order. With the intent committed first, that crash leaves an open intent
instead, never an unknown charge:

- the buyer's retry with the same Idempotency-Key takes the intent up again, sends the provider the same
  reference (the provider's own idempotency key) and gets the same charge back, so nothing is charged twice;
- an intent nobody comes back for is reconciled once ``reconcile_after`` has passed: whatever the provider charged
  under its reference is voided. Any number of workers may reconcile (rows are claimed with SKIP LOCKED).

A reference whose charge was voided is never charged again: the next attempt gets a new one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.clock import Clock
from kernel.db import Database
from kernel.errors import Unavailable
from kernel.jobs import Job, claim_due, count_due
from shop.models import ChargeIntent, ChargeIntentStatus
from shop.money.gateway import PaymentGateway

log = logging.getLogger("livecommerce.shop.charges")
BATCH = 50


async def open_intent(
    session: AsyncSession, gateway: PaymentGateway, scope: str, key: str, buyer_id: UUID, now: datetime
) -> ChargeIntent:
    """Record the intent to charge for this Idempotency-Key (or take it up again) and commit it.

    Call it before anything else in the request's session: it commits that session's transaction.
    """
    intent = await _locked(session, scope, key)
    if intent is None:
        intent = ChargeIntent(
            scope=scope,
            key=key,
            buyer_id=buyer_id,
            status=ChargeIntentStatus.OPEN,
            created_at=now,
            attempted_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(intent)
                await session.flush()
        except IntegrityError:  # the same key's first request recorded it a moment ago: take that one up
            intent = await _locked(session, scope, key)
            assert intent is not None
    if intent.status == ChargeIntentStatus.OPEN:
        charge = await gateway.find(intent.reference)
        if charge is not None and charge.voided:  # that attempt failed and gave the money back: a new reference
            _next_attempt(intent)
    elif intent.status == ChargeIntentStatus.VOIDED:  # reconciled while the buyer was away: start afresh
        _next_attempt(intent)
    intent.attempted_at = now
    await session.commit()
    return intent


async def complete(session: AsyncSession, intent: ChargeIntent, charge_id: str) -> None:
    """Mark the intent done in the orders' transaction, unless the reconciler voided this attempt meanwhile."""
    done = await session.execute(
        update(ChargeIntent)
        .where(
            ChargeIntent.id == intent.id,
            ChargeIntent.attempt == intent.attempt,
            ChargeIntent.status == ChargeIntentStatus.OPEN,
        )
        .values(status=ChargeIntentStatus.COMPLETED, charge_id=charge_id)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Unavailable(
            "checkout_interrupted",
            "This checkout took too long and its payment was cancelled; send it again to pay.",
            retry_after=1,
        )


def reconcile_job(gateway: PaymentGateway, after: timedelta) -> Job:
    """The sweeper job voiding the charges of intents left open longer than ``after``."""

    async def run(db: Database, clock: Clock) -> int:
        stale = clock.now() - after
        open_intents = select(ChargeIntent.id).where(ChargeIntent.status == ChargeIntentStatus.OPEN)
        async with db.transaction() as session:
            ids = list(await session.scalars(claim_due(open_intents, ChargeIntent.attempted_at, stale, BATCH)))
        handled = 0
        for intent_id in ids:
            async with db.transaction() as session:
                handled += await _void_abandoned(session, gateway, intent_id, stale)
        return handled

    async def backlog(session: AsyncSession, now: datetime) -> int:
        open_intents = select(ChargeIntent.id).where(ChargeIntent.status == ChargeIntentStatus.OPEN)
        return await count_due(session, open_intents, ChargeIntent.attempted_at, now - after)

    return Job("reconcile_charges", run, backlog)


async def _void_abandoned(session: AsyncSession, gateway: PaymentGateway, intent_id: UUID, stale: datetime) -> int:
    intent = await session.scalar(
        select(ChargeIntent).where(ChargeIntent.id == intent_id).with_for_update(skip_locked=True)
    )
    if intent is None or intent.status != ChargeIntentStatus.OPEN or intent.attempted_at > stale:
        return 0  # completed, taken up again by a retry, or another worker's
    charge = await gateway.find(intent.reference)
    if charge is not None and not charge.voided:
        await gateway.void(charge.charge_id)
    intent.status = ChargeIntentStatus.VOIDED
    intent.charge_id = charge.charge_id if charge is not None else None
    log.info(
        "charge.reconciled",
        extra={"intent": str(intent.id), "attempt": intent.attempt, "voided": charge.charge_id if charge else None},
    )
    return 1


async def _locked(session: AsyncSession, scope: str, key: str) -> ChargeIntent | None:
    return await session.scalar(
        select(ChargeIntent).where(ChargeIntent.scope == scope, ChargeIntent.key == key).with_for_update()
    )


def _next_attempt(intent: ChargeIntent) -> None:
    intent.attempt += 1
    intent.status = ChargeIntentStatus.OPEN
    intent.charge_id = None
