"""The buyer's orders page: status, items, tracking and timeline of each order, with "Confirm delivery" and the
Buyer Protection dispute form where they apply. Same shape as shop.web.pages: plain forms that htmx upgrades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import requires_signed_in
from kernel.errors import DomainError
from kernel.money import Money
from shop.models import Dispute, OrderEvent, OrderStatus
from shop.orders.carts import CartService
from shop.orders.disputes import DisputeService
from shop.orders.lifecycle import OrderService, OrderView
from shop.schemas import DisputeIn, OrderOut
from shop.views import order_out
from shop.web.display import duration, timeline
from shop.web.forms import convert, field_errors, minor_units
from shop.web.rendering import fragment, me, page, toast

Carts = NamedDependency[CartService]
Orders = NamedDependency[OrderService]
Disputes = NamedDependency[DisputeService]
PAGE_SIZE = 10
DISPUTABLE = (OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED)


@dataclass(frozen=True)
class OrderCard:
    """An order as its buyer sees it, with what they may do next (the services still decide)."""

    view: OrderView
    out: OrderOut
    dispute: Dispute | None
    can_confirm: bool
    can_dispute: bool

    @property
    def discount(self) -> Money:
        """The coupon's discount: the lines at their prices, less what was charged."""
        order = self.view.order
        return Money(sum(line.amount_minor for line in self.view.lines) - order.total_minor, order.currency)

    @property
    def timeline(self) -> list[OrderEvent]:
        return timeline(self.view.events)


def order_cards(views: list[OrderView], disputes: list[Dispute], now: datetime) -> list[OrderCard]:
    latest: dict[UUID, Dispute] = {}
    for d in disputes:  # newest first
        latest.setdefault(d.order_id, d)
    cards = []
    for view in views:
        o = view.order
        window_open = o.dispute_until is None or now <= o.dispute_until
        disputable = o.shipped_at is not None and o.status in DISPUTABLE and o.refundable.amount_minor > 0
        cards.append(
            OrderCard(
                view,
                order_out(view),
                latest.get(o.id),
                can_confirm=o.status == OrderStatus.SHIPPED,
                can_dispute=disputable and window_open,
            )
        )
    return cards


def _dispute_in(values: dict[str, str], currency: str) -> DisputeIn:
    """The dispute form as the API's DisputeIn; the amount is typed in major units and converted exactly."""
    amount = {"amount_minor": minor_units(values["amount"], currency, "amount"), "currency": currency}
    return convert(
        {"reason": values["reason"], "requested_refund": amount, "detail": values["detail"]},
        DisputeIn,
        {"requested_refund": "amount", "requested_refund.amount_minor": "amount"},
    )


class OrderPages(Controller):
    path = "/shop/orders"
    guards = [requires_signed_in]

    @get("/")
    async def orders_page(
        self,
        request: Request[Any, Any, Any],
        orders: Orders,
        disputes: Disputes,
        carts: Carts,
        state: State,
        cursor: FromQuery[str | None] = None,
        placed: FromQuery[str | None] = None,
    ) -> Template:
        return await _orders_page(request, orders, disputes, carts, state, cursor=cursor, placed=placed)

    @post("/{order_id:uuid}/confirm-delivery", status_code=200)
    async def confirm_delivery(
        self, request: HTMXRequest, order_id: FromPath[UUID], orders: Orders, disputes: Disputes, state: State
    ) -> Response[Any]:
        await orders.confirm_delivery(me(request), order_id)
        return await _order_card(request, orders, disputes, state, order_id, toast("Delivery confirmed", "Thank you!"))

    @post("/{order_id:uuid}/disputes", status_code=200)
    async def open_dispute(
        self,
        request: HTMXRequest,
        order_id: FromPath[UUID],
        orders: Orders,
        disputes: Disputes,
        carts: Carts,
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> Response[Any]:
        form = await request.form()
        values = {name: form.get(name, "").strip() for name in ("reason", "amount", "detail")}
        try:
            order = await orders.visible(me(request), order_id)
            await disputes.open(me(request), order_id, _dispute_in(values, order.currency))
        except DomainError as exc:
            await db_session.rollback()
            failed = {"id": order_id, "errors": field_errors(exc), "values": values}
            if request.htmx:
                return await _order_card(request, orders, disputes, state, order_id, None, exc.status, failed)
            return await _orders_page(request, orders, disputes, carts, state, exc.status, failed=failed)
        answer_in = duration(state.settings.shop.dispute_response)
        done = toast("Dispute opened", f"The seller has {answer_in} to answer; then LiveCommerce decides.")
        return await _order_card(request, orders, disputes, state, order_id, done)


async def _orders_page(
    request: Request[Any, Any, Any],
    orders: OrderService,
    disputes: DisputeService,
    carts: CartService,
    state: State,
    status_code: int = 200,
    cursor: str | None = None,
    placed: str | None = None,
    failed: dict[str, Any] | None = None,
) -> Template:
    found, next_cursor = await orders.list_for(me(request), "buyer", None, PAGE_SIZE, cursor)
    cards = order_cards(await orders.views(found), await disputes.for_user(me(request)), state.clock.now())
    return await page(
        request,
        "shop/orders.html",
        carts,
        status_code=status_code,
        cards=cards,
        next_cursor=next_cursor,
        placed=placed,
        failed=failed,
    )


async def _order_card(
    request: HTMXRequest,
    orders: OrderService,
    disputes: DisputeService,
    state: State,
    order_id: UUID,
    done: dict[str, Any] | None,
    status_code: int = 200,
    failed: dict[str, Any] | None = None,
) -> Response[Any]:
    """The changed order's card for htmx to swap in place; a plain form goes back to the page instead."""
    if not request.htmx:
        return Redirect(f"/shop/orders#order-{order_id}", status_code=303)
    order = await orders.visible(me(request), order_id)
    mine = [d for d in await disputes.for_user(me(request)) if d.order_id == order_id]
    (card,) = order_cards([await orders.view(order)], mine, state.clock.now())
    return fragment("shop/partials/_order.html", status_code=status_code, card=card, failed=failed, toast=done)
