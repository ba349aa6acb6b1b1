"""The buyer's orders page and an order's own page (for its buyer, its seller and admins): status, items, dates,
shipping address, tracking and timeline, with "Confirm delivery" and the Buyer Protection dispute form (photos
included) where they apply to the buyer. Same shape as shop.web.pages: plain forms that htmx upgrades.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, requires_signed_in
from kernel.errors import DomainError
from kernel.money import Money
from kernel.settings import ShopSettings
from shop.models import Dispute, Order, OrderEvent, OrderStatus
from shop.orders.carts import CartService
from shop.orders.dispute_threads import MAX_PHOTO_BYTES, MAX_PHOTOS
from shop.orders.disputes import DisputeService
from shop.orders.lifecycle import OrderService, OrderView
from shop.schemas import DisputeIn, OrderOut
from shop.views import order_out
from shop.web.display import duration, timeline
from shop.web.dispute_pages import photo_uploads
from shop.web.forms import convert, field_errors, minor_units
from shop.web.rendering import fragment, me, page, toast

Carts = NamedDependency[CartService]
Orders = NamedDependency[OrderService]
Disputes = NamedDependency[DisputeService]
PAGE_SIZE = 10
DISPUTABLE = (OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED)
# The dispute form carries the photos too, so it may be as large as a thread message.
DISPUTE_FORM_MAX_BYTES = MAX_PHOTOS * MAX_PHOTO_BYTES + 64 * 1024


@dataclass(frozen=True)
class Deadline:
    """One of an order's dates: when it is due (or happened), or in words when it is not fixed yet."""

    label: str
    at: datetime | None
    words: str
    testid: str


def deadlines(o: Order, shop: ShopSettings) -> list[Deadline]:
    """Ship-by, auto-confirm and Buyer Protection dates; each is fixed only once the step before it happens."""

    def after(length: timedelta, step: str) -> str:
        return f"{duration(length)} after {step}"

    if o.shipped_at is not None:
        shipping = Deadline("Shipped", o.shipped_at, "", "shipped-at")
    else:  # the ship-by deadline is cleared once the order is cancelled
        shipping = Deadline("Ship by", o.ship_by, "not shipped", "ship-by")
    over = o.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
    if o.completed_at is not None:
        confirm = Deadline("Delivery confirmed", o.completed_at, "", "completed-at")
    elif o.auto_confirm_at is not None:
        confirm = Deadline("Confirmed automatically on", o.auto_confirm_at, "", "auto-confirm")
    elif o.status == OrderStatus.DISPUTED:
        confirm = Deadline("Confirmed automatically", None, "paused during the dispute", "auto-confirm")
    else:
        pending = "does not apply" if over else after(shop.auto_confirm_after, "shipping")
        confirm = Deadline("Confirmed automatically", None, pending, "auto-confirm")
    if o.dispute_until is not None or over:
        protection = Deadline("Buyer Protection until", o.dispute_until, "does not apply", "protection-until")
    else:
        words = after(shop.dispute_window, "delivery is confirmed")
        protection = Deadline("Buyer Protection until", None, words, "protection-until")
    return [shipping, confirm, protection]


@dataclass(frozen=True)
class OrderCard:
    """An order as its reader sees it, with what they may do next (the services still decide)."""

    view: OrderView
    out: OrderOut
    dispute: Dispute | None
    dates: list[Deadline]
    is_buyer: bool
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


def order_cards(
    views: list[OrderView], disputes: list[Dispute], reader: CurrentUser, now: datetime, shop: ShopSettings
) -> list[OrderCard]:
    latest: dict[UUID, Dispute] = {}
    for d in disputes:  # newest first
        latest.setdefault(d.order_id, d)
    cards = []
    for view in views:
        o = view.order
        is_buyer = o.buyer_id == reader.id
        window_open = o.dispute_until is None or now <= o.dispute_until
        disputable = o.shipped_at is not None and o.status in DISPUTABLE and o.refundable.amount_minor > 0
        cards.append(
            OrderCard(
                view,
                order_out(view),
                latest.get(o.id),
                deadlines(o, shop),
                is_buyer,
                can_confirm=is_buyer and o.status == OrderStatus.SHIPPED,
                can_dispute=is_buyer and disputable and window_open,
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

    @get("/{order_id:uuid}")
    async def order_page(
        self,
        request: Request[Any, Any, Any],
        order_id: FromPath[UUID],
        orders: Orders,
        disputes: Disputes,
        carts: Carts,
    ) -> Template:
        """One order for its buyer, its seller or an admin, with its disputes; anyone else finds nothing."""
        return await _order_page(request, orders, disputes, carts, order_id)

    @post("/{order_id:uuid}/confirm-delivery", status_code=200)
    async def confirm_delivery(
        self, request: HTMXRequest, order_id: FromPath[UUID], orders: Orders, disputes: Disputes, state: State
    ) -> Response[Any]:
        await orders.confirm_delivery(me(request), order_id)
        return await _order_card(request, orders, disputes, state, order_id, toast("Delivery confirmed", "Thank you!"))

    @post("/{order_id:uuid}/disputes", status_code=200, request_max_body_size=DISPUTE_FORM_MAX_BYTES)
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
            photos = await photo_uploads(form)
            dispute = await disputes.open(me(request), order_id, _dispute_in(values, order.currency), photos)
        except DomainError as exc:
            await db_session.rollback()
            failed = {"id": order_id, "errors": field_errors(exc), "values": values}
            if request.htmx:
                return await _order_card(request, orders, disputes, state, order_id, None, exc.status, failed)
            return await _orders_page(request, orders, disputes, carts, state, exc.status, failed=failed)
        if not request.htmx:  # without JavaScript, the dispute's own page is where the conversation goes on
            return Redirect(f"/shop/disputes/{dispute.id}", status_code=303)
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
    mine = await disputes.for_user(me(request))
    cards = order_cards(await orders.views(found), mine, me(request), state.clock.now(), state.settings.shop)
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
    (card,) = order_cards([await orders.view(order)], mine, me(request), state.clock.now(), state.settings.shop)
    return fragment("shop/partials/_order.html", status_code=status_code, card=card, failed=failed, toast=done)


async def _order_page(
    request: Request[Any, Any, Any], orders: OrderService, disputes: DisputeService, carts: CartService, order_id: UUID
) -> Template:
    state = request.app.state
    order = await orders.visible(me(request), order_id)
    its_disputes = await disputes.for_order(me(request), order_id)
    (card,) = order_cards([await orders.view(order)], its_disputes, me(request), state.clock.now(), state.settings.shop)
    return await page(request, "shop/order.html", carts, card=card, disputes=its_disputes, failed=None)
