"""Buyer Protection: a buyer disputes a shipped or completed order; the seller refunds or rejects; rejected and
ignored disputes go to the admins, whose decision is final. Refunds go through OrderService.refund, so they never
exceed what was paid and claw back commissions after release.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role
from kernel.clock import Clock
from kernel.errors import Conflict, Forbidden, NotFound, RuleBroken
from kernel.money import Money
from kernel.settings import ShopSettings
from shop.models import Dispute, DisputeStatus, Order, OrderAction, OrderStatus
from shop.orders.lifecycle import OrderService
from shop.schemas import DisputeIn, ResolveIn

S = OrderStatus
D = DisputeStatus
A = OrderAction
ACTIVE = (D.OPEN, D.ESCALATED)


class DisputeService:
    def __init__(self, session: AsyncSession, clock: Clock, settings: ShopSettings, orders: OrderService) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.orders = orders

    async def open(self, buyer: CurrentUser, order_id: UUID, data: DisputeIn) -> Dispute:
        order = await self.orders.locked(order_id)
        if order.buyer_id != buyer.id:
            if buyer.id == order.seller_id or buyer.has(Role.ADMIN):
                raise Forbidden("not_your_order", "Only the buyer can open a dispute.")
            raise NotFound("order_not_found", f"There is no order {order_id}.")
        now = self.clock.now()
        if order.shipped_at is None or order.status not in (S.SHIPPED, S.COMPLETED, S.PARTIALLY_REFUNDED):
            raise Conflict(
                "not_disputable",
                f"An order that is {order.status} cannot be disputed; unshipped "
                "orders are cancelled and refunded by the ship-by deadline.",
                order_status=order.status,
            )
        if order.dispute_until is not None and now > order.dispute_until:
            raise Conflict("dispute_window_closed", "The Buyer Protection window for this order has closed.")
        requested = data.requested_refund.to_money()
        if requested.currency != order.currency or not 0 < requested.amount_minor <= order.refundable.amount_minor:
            raise RuleBroken(
                "refund_too_large",
                f"Ask for between 0.01 and {order.refundable}.",
                errors=[{"field": "requested_refund", "message": f"at most {order.refundable}"}],
            )
        dispute = Dispute(
            order_id=order.id,
            buyer_id=order.buyer_id,
            seller_id=order.seller_id,
            reason=data.reason,
            detail=data.detail,
            requested_minor=requested.amount_minor,
            currency=requested.currency,
            status=D.OPEN,
            opened_at=now,
            respond_by=now + self.settings.dispute_response,
        )
        self.session.add(dispute)
        order.status_before_dispute, order.status, order.auto_confirm_at = order.status, S.DISPUTED, None
        await self.orders.record(order, A.DISPUTE_OPENED, buyer.id, reason=data.reason, requested=requested)
        await self.session.flush()
        return dispute

    async def get(self, user: CurrentUser, dispute_id: UUID) -> Dispute:
        dispute = await self.session.get(Dispute, dispute_id)
        if dispute is None or not (user.has(Role.ADMIN) or user.id in (dispute.buyer_id, dispute.seller_id)):
            raise NotFound("dispute_not_found", f"There is no dispute {dispute_id}.")
        return dispute

    async def resolve(self, user: CurrentUser, dispute_id: UUID, data: ResolveIn) -> Dispute:
        """An admin refunds (any amount up to what is refundable) or rejects; the seller accepts or rejects."""
        dispute = await self.get(user, dispute_id)
        order = await self.orders.locked(dispute.order_id)
        dispute = await self.session.get(Dispute, dispute_id, with_for_update=True, populate_existing=True)
        is_admin = user.has(Role.ADMIN)
        if not is_admin and user.id != dispute.seller_id:
            raise Forbidden("not_allowed", "Only the seller or an admin resolves a dispute.")
        if dispute.status not in (ACTIVE if is_admin else (D.OPEN,)):
            raise Conflict("dispute_closed", f"This dispute is {dispute.status}.", dispute_status=dispute.status)
        actor = user.id
        if data.outcome == "reject":
            return await (
                self._reject(dispute, order, actor, data.note)
                if is_admin
                else self._escalate(dispute, order, actor, "rejected_by_seller")
            )
        amount = data.amount.to_money() if data.amount else Money(dispute.requested_minor, dispute.currency)
        if not is_admin and amount.amount_minor != dispute.requested_minor:
            raise RuleBroken(
                "seller_refunds_requested_amount",
                "A seller accepts by refunding the amount asked for; to offer less, reject and let an admin decide.",
            )
        await self.orders.refund(order, amount, actor)
        dispute.status, dispute.resolved_at, dispute.refunded_minor = D.REFUNDED, self.clock.now(), amount.amount_minor
        dispute.resolution_note = data.note
        self._resume(order, refunded=True)
        await self.orders.record(order, A.DISPUTE_REFUNDED, actor, dispute_id=str(dispute.id), amount=amount)
        return dispute

    async def _escalate(self, dispute: Dispute, order: Order, actor: UUID | None, why: str) -> Dispute:
        dispute.status, dispute.respond_by = D.ESCALATED, None
        await self.orders.record(order, A.DISPUTE_ESCALATED, actor, dispute_id=str(dispute.id), why=why)
        return dispute

    async def _reject(self, dispute: Dispute, order: Order, actor: UUID, note: str) -> Dispute:
        dispute.status, dispute.resolved_at, dispute.resolution_note = D.REJECTED, self.clock.now(), note
        self._resume(order, refunded=False)
        await self.orders.record(order, A.DISPUTE_REJECTED, actor, dispute_id=str(dispute.id))
        return dispute

    def _resume(self, order: Order, refunded: bool) -> None:
        """After a dispute the order carries on where it was: a shipped order's auto-confirm clock runs again."""
        previous = order.status_before_dispute or S.SHIPPED
        if order.refunded_minor == order.total_minor:
            order.status = S.REFUNDED
        elif refunded or previous == S.PARTIALLY_REFUNDED:
            order.status = S.PARTIALLY_REFUNDED
        else:
            order.status = previous
        order.status_before_dispute = None
        if order.released_at is None and order.status != S.REFUNDED:
            order.auto_confirm_at = max(order.shipped_at + self.settings.auto_confirm_after, self.clock.now())

    async def escalate_overdue(self, dispute: Dispute) -> None:
        order = await self.orders.locked(dispute.order_id)
        await self._escalate(dispute, order, None, "seller_did_not_answer")

    async def queue(self, statuses: tuple[str, ...] = (D.ESCALATED,)) -> list[Dispute]:
        return list(
            await self.session.scalars(select(Dispute).where(Dispute.status.in_(statuses)).order_by(Dispute.opened_at))
        )

    async def for_user(self, user: CurrentUser) -> list[Dispute]:
        me = user.id
        return list(
            await self.session.scalars(
                select(Dispute)
                .where((Dispute.buyer_id == me) | (Dispute.seller_id == me))
                .order_by(Dispute.opened_at.desc())
            )
        )
