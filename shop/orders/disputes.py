"""Buyer Protection: a buyer disputes a shipped or completed order; the seller refunds what was asked, offers a
partial refund (which the buyer accepts or declines) or rejects; rejected, declined and ignored disputes go to the
admins, whose decision is final. Both sides and admins write in the dispute's thread (shop.orders.dispute_threads).
Refunds go through OrderService.refund, so they never exceed what was paid and claw back commissions after release.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role
from kernel.clock import Clock
from kernel.errors import Conflict, Forbidden, NotFound, RuleBroken
from kernel.money import Money
from kernel.settings import ShopSettings
from shop.models import Dispute, DisputeEvidence, DisputeStatus, Order, OrderAction, OrderStatus
from shop.orders import dispute_threads
from shop.orders.dispute_threads import ThreadMessage
from shop.orders.lifecycle import OrderService
from shop.schemas import DisputeIn, ResolveIn

S = OrderStatus
D = DisputeStatus
A = OrderAction
ACTIVE = (D.OPEN, D.OFFERED, D.ESCALATED)


class DisputeService:
    def __init__(self, session: AsyncSession, clock: Clock, settings: ShopSettings, orders: OrderService) -> None:
        self.session = session
        self.clock = clock
        self.settings = settings
        self.orders = orders

    async def open(self, buyer: CurrentUser, order_id: UUID, data: DisputeIn, photos: Sequence[bytes] = ()) -> Dispute:
        """Open a dispute; its detail and ``photos`` become the first message of its thread."""
        order = await self.orders.locked(order_id)
        if order.buyer_id != buyer.id:
            if buyer.id == order.seller_id or buyer.has(Role.ADMIN):
                raise Forbidden("not_your_order", "Only the buyer can open a dispute.")
            raise NotFound("order_not_found", f"There is no order {order_id}.")
        checked = dispute_threads.checked_photos(photos)
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
        if data.detail.strip() or checked:
            await dispute_threads.post(self.session, dispute, buyer.id, data.detail.strip(), checked, now)
        return dispute

    async def get(self, user: CurrentUser, dispute_id: UUID) -> Dispute:
        dispute = await self.session.get(Dispute, dispute_id)
        if dispute is None or not (user.has(Role.ADMIN) or user.id in (dispute.buyer_id, dispute.seller_id)):
            raise NotFound("dispute_not_found", f"There is no dispute {dispute_id}.")
        return dispute

    async def resolve(self, user: CurrentUser, dispute_id: UUID, data: ResolveIn) -> Dispute:
        """An admin refunds (any amount up to what is refundable) or rejects. The seller refunds what was asked,
        offers less (the buyer then accepts or escalates) or rejects (which escalates); their note joins the thread.
        """
        dispute, order = await self._locked(user, dispute_id)
        is_admin = user.has(Role.ADMIN)
        if not is_admin and user.id != dispute.seller_id:
            raise Forbidden("not_allowed", "Only the seller or an admin resolves a dispute.")
        if dispute.status not in (ACTIVE if is_admin else (D.OPEN,)):
            raise Conflict("dispute_closed", f"This dispute is {dispute.status}.", dispute_status=dispute.status)
        actor = user.id
        if not is_admin and data.note.strip():
            note = dispute_threads.checked_body(data.note, ())
            await dispute_threads.post(self.session, dispute, actor, note, (), self.clock.now())
        if data.outcome == "reject":
            return await (
                self._reject(dispute, order, actor, data.note)
                if is_admin
                else self._escalate(dispute, order, actor, "rejected_by_seller")
            )
        requested = Money(dispute.requested_minor, dispute.currency)
        amount = data.amount.to_money() if data.amount else requested
        if not is_admin and amount != requested:
            return await self._offer(dispute, order, actor, amount, requested)
        # The seller's note is in the thread already; the resolution note is the admin's reason for a decision.
        return await self._refund(dispute, order, actor, amount, data.note if is_admin else "")

    async def accept_offer(self, user: CurrentUser, dispute_id: UUID) -> Dispute:
        """The buyer takes the seller's partial refund: the money goes back and the dispute closes."""
        dispute, order = await self._buyer_answers(user, dispute_id)
        assert dispute.offered_minor is not None  # an offered dispute always carries its offer
        return await self._refund(dispute, order, user.id, Money(dispute.offered_minor, dispute.currency), "")

    async def decline_offer(self, user: CurrentUser, dispute_id: UUID) -> Dispute:
        """The buyer turns the seller's offer down: an admin decides."""
        dispute, order = await self._buyer_answers(user, dispute_id)
        return await self._escalate(dispute, order, user.id, "offer_declined_by_buyer")

    async def write(self, user: CurrentUser, dispute_id: UUID, body: str, photos: Sequence[bytes]) -> ThreadMessage:
        """Add a message (and photos) to an undecided dispute's thread, as its buyer, its seller or an admin."""
        dispute = await self.get(user, dispute_id)
        checked = dispute_threads.checked_photos(photos)
        text = dispute_threads.checked_body(body, checked)
        if dispute.status not in ACTIVE:
            raise Conflict("dispute_closed", f"This dispute is {dispute.status}.", dispute_status=dispute.status)
        message = await dispute_threads.post(self.session, dispute, user.id, text, checked, self.clock.now())
        return next(m for m in await dispute_threads.read(self.session, dispute) if m.id == message.id)

    async def thread(self, user: CurrentUser, dispute_id: UUID) -> list[ThreadMessage]:
        return await dispute_threads.read(self.session, await self.get(user, dispute_id))

    async def photo(self, user: CurrentUser, dispute_id: UUID, evidence_id: UUID) -> DisputeEvidence:
        return await dispute_threads.photo(self.session, await self.get(user, dispute_id), evidence_id)

    async def _locked(self, user: CurrentUser, dispute_id: UUID) -> tuple[Dispute, Order]:
        """The dispute and its order, both locked, the order first as every money path takes them."""
        dispute = await self.get(user, dispute_id)
        order = await self.orders.locked(dispute.order_id)
        dispute = await self.session.get(Dispute, dispute_id, with_for_update=True, populate_existing=True)
        return dispute, order

    async def _buyer_answers(self, user: CurrentUser, dispute_id: UUID) -> tuple[Dispute, Order]:
        dispute, order = await self._locked(user, dispute_id)
        if user.id != dispute.buyer_id:
            raise Forbidden("not_the_buyer", "Only the buyer answers the seller's offer.")
        if dispute.status != D.OFFERED:
            raise Conflict("no_offer", f"This dispute is {dispute.status}: there is no offer to answer.")
        return dispute, order

    async def _offer(self, dispute: Dispute, order: Order, actor: UUID, amount: Money, requested: Money) -> Dispute:
        if amount.currency != requested.currency or not 0 < amount.amount_minor < requested.amount_minor:
            raise RuleBroken(
                "offer_above_request",
                f"A seller refunds at most what the buyer asked for ({requested}); an admin may decide otherwise.",
                errors=[{"field": "amount", "message": f"between 0.01 and {requested}"}],
            )
        dispute.status, dispute.offered_minor = D.OFFERED, amount.amount_minor
        dispute.respond_by = self.clock.now() + self.settings.dispute_response
        await self.orders.record(order, A.DISPUTE_OFFERED, actor, dispute_id=str(dispute.id), amount=amount)
        return dispute

    async def _refund(self, dispute: Dispute, order: Order, actor: UUID, amount: Money, note: str) -> Dispute:
        await self.orders.refund(order, amount, actor)
        dispute.status, dispute.resolved_at, dispute.refunded_minor = D.REFUNDED, self.clock.now(), amount.amount_minor
        dispute.respond_by, dispute.resolution_note = None, note
        self._resume(order, refunded=True)
        await self.orders.record(order, A.DISPUTE_REFUNDED, actor, dispute_id=str(dispute.id), amount=amount)
        return dispute

    async def _escalate(self, dispute: Dispute, order: Order, actor: UUID | None, why: str) -> Dispute:
        dispute.status, dispute.respond_by = D.ESCALATED, None
        await self.orders.record(order, A.DISPUTE_ESCALATED, actor, dispute_id=str(dispute.id), why=why)
        return dispute

    async def _reject(self, dispute: Dispute, order: Order, actor: UUID, note: str) -> Dispute:
        dispute.status, dispute.resolved_at, dispute.resolution_note = D.REJECTED, self.clock.now(), note
        dispute.respond_by = None
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
        why = "buyer_did_not_answer" if dispute.status == D.OFFERED else "seller_did_not_answer"
        await self._escalate(dispute, order, None, why)

    async def queue(self, statuses: tuple[str, ...] = (D.ESCALATED,)) -> list[Dispute]:
        return list(
            await self.session.scalars(select(Dispute).where(Dispute.status.in_(statuses)).order_by(Dispute.opened_at))
        )

    async def for_order(self, user: CurrentUser, order_id: UUID) -> list[Dispute]:
        """The disputes of an order ``user`` may see (its buyer, its seller, an admin), newest first."""
        order = await self.orders.visible(user, order_id)
        return list(
            await self.session.scalars(
                select(Dispute).where(Dispute.order_id == order.id).order_by(Dispute.opened_at.desc())
            )
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
