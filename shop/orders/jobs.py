"""Deadlines the sweeper applies: ship-by cancellations, auto-confirmations, disputes a seller ignored or whose
offer the buyer left unanswered, and the charges of abandoned checkouts (shop.orders.intents).

Each due row is handled in its own transaction through the same service methods a user's request uses; rows are
claimed with SKIP LOCKED, so several workers split the work and a failure only retries that row next tick.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.bus import Bus
from kernel.clock import Clock
from kernel.db import Database
from kernel.jobs import Job, claim_due, count_due
from kernel.settings import ShopSettings
from shop.models import Dispute, DisputeStatus, Order, OrderAction, OrderStatus
from shop.money.gateway import PaymentGateway
from shop.orders.disputes import DisputeService
from shop.orders.intents import reconcile_job
from shop.orders.lifecycle import OrderService

BATCH = 50
# What each deadline job sweeps, before the due-time filter: also counted as the job's backlog.
UNSHIPPED = select(Order.id).where(Order.status == OrderStatus.PAID)
UNCONFIRMED = select(Order.id).where(Order.status.in_([OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED]))
# A seller who does not answer, or a buyer who leaves the seller's offer unanswered, hands the dispute to admins.
AWAITING_ANSWER = (DisputeStatus.OPEN, DisputeStatus.OFFERED)
UNANSWERED = select(Dispute.id).where(Dispute.status.in_(AWAITING_ANSWER))


def shop_jobs(settings: ShopSettings, gateway: PaymentGateway, bus: Bus) -> list[Job]:
    def orders(session: AsyncSession, clock: Clock) -> OrderService:
        return OrderService(session, clock, settings, gateway, bus)

    async def each_due(
        db: Database, clock: Clock, query: Any, due: Any, act: Callable[[AsyncSession, UUID], Awaitable[None]]
    ) -> int:
        async with db.transaction() as session:
            ids = list(await session.scalars(claim_due(query, due, clock.now(), BATCH)))
        handled = 0
        for row_id in ids:
            async with db.transaction() as session:
                await act(session, row_id)
            handled += 1
        return handled

    async def cancel_unshipped(db: Database, clock: Clock) -> int:
        async def act(session: AsyncSession, order_id: UUID) -> None:
            service = orders(session, clock)
            order = await service.locked(order_id)
            if order.status == OrderStatus.PAID and order.ship_by and order.ship_by <= clock.now():
                await service.cancel(
                    order, None, OrderAction.CANCELLED_NOT_SHIPPED, "not shipped by the ship-by deadline"
                )

        return await each_due(db, clock, UNSHIPPED, Order.ship_by, act)

    async def auto_confirm(db: Database, clock: Clock) -> int:
        async def act(session: AsyncSession, order_id: UUID) -> None:
            service = orders(session, clock)
            order = await service.locked(order_id)
            if (
                order.auto_confirm_at
                and order.auto_confirm_at <= clock.now()
                and order.released_at is None
                and order.status in (OrderStatus.SHIPPED, OrderStatus.PARTIALLY_REFUNDED)
            ):
                await service.complete(order, None, OrderAction.AUTO_CONFIRMED)

        return await each_due(db, clock, UNCONFIRMED, Order.auto_confirm_at, act)

    async def escalate_ignored_disputes(db: Database, clock: Clock) -> int:
        async def act(session: AsyncSession, dispute_id: UUID) -> None:
            dispute = await session.get(Dispute, dispute_id, with_for_update=True)
            if dispute and dispute.status in AWAITING_ANSWER and dispute.respond_by <= clock.now():
                await DisputeService(session, clock, settings, orders(session, clock)).escalate_overdue(dispute)

        return await each_due(db, clock, UNANSWERED, Dispute.respond_by, act)

    def backlog(query: Any, due: Any) -> Callable[[AsyncSession, datetime], Awaitable[int]]:
        async def count(session: AsyncSession, now: datetime) -> int:
            return await count_due(session, query, due, now)

        return count

    return [
        Job("cancel_unshipped", cancel_unshipped, backlog(UNSHIPPED, Order.ship_by)),
        Job("auto_confirm", auto_confirm, backlog(UNCONFIRMED, Order.auto_confirm_at)),
        Job("escalate_ignored_disputes", escalate_ignored_disputes, backlog(UNANSWERED, Dispute.respond_by)),
        reconcile_job(gateway, settings.reconcile_after),
    ]
