"""JSON handlers of checkout, orders, disputes and balances (/api/shop): parse, call a service, map the result."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role, requires_role, requires_signed_in
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import not_found_when_malformed, problem_spec
from shop.money import ledger
from shop.orders.checkout import Checkout
from shop.orders.disputes import DisputeService
from shop.orders.lifecycle import OrderService
from shop.schemas import (
    BalancesOut,
    CheckoutIn,
    CheckoutOut,
    DisputeIn,
    DisputeOut,
    OrderOut,
    OrderPage,
    ResolveIn,
    ShipIn,
)
from shop.views import dispute_out, order_out
from shop.web.idempotent import IdempotencyKey, idempotent, keyed_checkout, respond
from shop.web.responses import CONFLICT, NOT_FOUND


class OrderController(Controller):
    path = "/api/shop"
    tags = ["orders"]
    guards = [requires_signed_in]

    @post(
        "/checkout",
        responses={
            402: problem_spec("Payment declined"),
            409: problem_spec("Not enough stock"),
            422: problem_spec("Invalid basket or reused Idempotency-Key"),
            503: problem_spec("Payment provider unavailable"),
        },
    )
    async def checkout(
        self,
        data: JSONBody[CheckoutIn],
        checkout: NamedDependency[Checkout],
        current_user: NamedDependency[CurrentUser],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CheckoutOut]:
        """Pay for a basket: one order per seller, the money held in escrow. Needs an Idempotency-Key."""
        return respond(await keyed_checkout(checkout, current_user, data, idempotency_key))

    @get("/orders")
    async def list_orders(
        self,
        orders: NamedDependency[OrderService],
        current_user: NamedDependency[CurrentUser],
        as_: Annotated[Literal["buyer", "seller"], QueryParameter(name="as")] = "buyer",
        status: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> OrderPage:
        """Your purchases, or with ``as=seller`` your sales; newest first."""
        found, next_cursor = await orders.list_for(current_user, as_, status, limit, cursor)
        return OrderPage([order_out(v) for v in await orders.views(found)], next_cursor)

    @get("/orders/{order_id:uuid}", responses={404: NOT_FOUND})
    async def get_order(
        self,
        order_id: FromPath[UUID],
        orders: NamedDependency[OrderService],
        current_user: NamedDependency[CurrentUser],
    ) -> OrderOut:
        order = await orders.visible(current_user, order_id)
        return order_out(await orders.view(order))

    @post(
        "/orders/{order_id:uuid}/ship",
        status_code=200,
        responses={403: problem_spec("Not your order"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def ship(
        self,
        order_id: FromPath[UUID],
        data: JSONBody[ShipIn],
        orders: NamedDependency[OrderService],
        current_user: NamedDependency[CurrentUser],
    ) -> OrderOut:
        """Mark an order shipped with its carrier and tracking number (its seller only)."""
        order = await orders.ship(current_user, order_id, data.carrier, data.tracking_number)
        return order_out(await orders.view(order))

    @post(
        "/orders/{order_id:uuid}/confirm-delivery",
        status_code=200,
        responses={403: problem_spec("Not your order"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def confirm_delivery(
        self,
        order_id: FromPath[UUID],
        orders: NamedDependency[OrderService],
        current_user: NamedDependency[CurrentUser],
    ) -> OrderOut:
        """The buyer has the goods: complete the order and release escrow."""
        order = await orders.confirm_delivery(current_user, order_id)
        return order_out(await orders.view(order))

    @post(
        "/orders/{order_id:uuid}/cancel",
        status_code=200,
        responses={403: problem_spec("Not your order"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def cancel(
        self,
        order_id: FromPath[UUID],
        orders: NamedDependency[OrderService],
        current_user: NamedDependency[CurrentUser],
    ) -> OrderOut:
        """Cancel an unshipped order (its seller): the buyer is refunded in full and stock returns."""
        order = await orders.cancel_by_seller(current_user, order_id, "cancelled by the seller")
        return order_out(await orders.view(order))

    @post("/orders/{order_id:uuid}/disputes", responses={404: NOT_FOUND, 409: CONFLICT})
    async def open_dispute(
        self,
        order_id: FromPath[UUID],
        data: JSONBody[DisputeIn],
        disputes: NamedDependency[DisputeService],
        current_user: NamedDependency[CurrentUser],
    ) -> DisputeOut:
        """Buyer Protection: not received, damaged or not as described."""
        return dispute_out(await disputes.open(current_user, order_id, data))

    @get("/disputes")
    async def my_disputes(
        self, disputes: NamedDependency[DisputeService], current_user: NamedDependency[CurrentUser]
    ) -> list[DisputeOut]:
        """Disputes you opened as a buyer or must answer as a seller."""
        return [dispute_out(d) for d in await disputes.for_user(current_user)]

    @get("/disputes/{dispute_id:uuid}", responses={404: NOT_FOUND})
    async def get_dispute(
        self,
        dispute_id: FromPath[UUID],
        disputes: NamedDependency[DisputeService],
        current_user: NamedDependency[CurrentUser],
    ) -> DisputeOut:
        return dispute_out(await disputes.get(current_user, dispute_id))

    @post(
        "/disputes/{dispute_id:uuid}/resolve",
        status_code=200,
        responses={403: problem_spec("Not the seller or an admin"), 404: NOT_FOUND, 409: CONFLICT},
    )
    async def resolve_dispute(
        self,
        dispute_id: FromPath[UUID],
        data: JSONBody[ResolveIn],
        disputes: NamedDependency[DisputeService],
        current_user: NamedDependency[CurrentUser],
        db_session: NamedDependency[AsyncSession],
        state: State,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[DisputeOut]:
        """The seller accepts (refund) or rejects; an admin refunds any amount up to what is left, or rejects."""

        async def resolve() -> tuple[DisputeOut, int]:
            return dispute_out(await disputes.resolve(current_user, dispute_id, data)), 200

        scope = f"resolve:{current_user.id}"
        now = state.clock.now()
        return respond(
            await idempotent(
                db_session,
                scope,
                idempotency_key,
                data,
                resolve,
                now=now,
                required=False,
                resource=f"dispute:{dispute_id}",
            )
        )

    @get("/balances", guards=[requires_role(Role.SELLER, Role.INFLUENCER)])
    async def balances(
        self, db_session: NamedDependency[AsyncSession], current_user: NamedDependency[CurrentUser], state: State
    ) -> BalancesOut:
        """What you have earned as a seller or creator: pending (in the dispute window), available, paid out."""
        currency = state.settings.shop.currency
        party = await ledger.party_balance(
            db_session, ledger.party_accounts(current_user.id), currency, state.clock.now()
        )
        in_escrow = await ledger.seller_escrow(db_session, current_user.id, currency)
        return BalancesOut(
            pending=party.pending, available=party.available, paid_out=party.paid_out, in_escrow=in_escrow
        )


ORDER_CONTROLLERS = [OrderController]
not_found_when_malformed(ORDER_CONTROLLERS, order_id="order", dispute_id="dispute")
