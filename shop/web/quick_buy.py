"""Quick buy: a small checkout form that opens inside any page (a post's product card, a live room) and places
the order there, without leaving the page. Shop owns it; live and community pages only link to it.

Stable URLs (other pages depend on them):

``GET /shop/products/{product_id}/buy``
    The form as an htmx fragment (``templates/shop/partials/_quick_buy.html``), the root element
    ``<div class="quick-buy" id="quick-buy-{product_id}">``; swap it with ``hx-target="#quick-buy-{product_id}"
    hx-swap="outerHTML"`` into an empty element with that id. Query parameters, all optional:
    ``post_id`` or ``room_id`` (where the buyer found the product: the order line's ``source``, which credits that
    post's or room's creator), ``deal_id`` (a live deal: its price and remaining quantity apply) and
    ``quantity`` (the starting quantity, default 1). Signed out, the fragment offers sign-in instead.
``POST /shop/products/{product_id}/buy``
    The form's submission (fields ``quantity``, ``name``, ``line1``, ``city``, ``postal_code``, ``country``, ``card``,
    ``idempotency_key`` and the hidden ``post_id`` / ``room_id`` / ``deal_id``). Places the order through
    ``Checkout.place_order`` (the product leaves the buyer's cart, if it was there) and answers the same fragment
    showing the placed order, or the form again with the problem beside its field (with the problem's status);
    without htmx, success is a 303 to the orders page.
    The Idempotency-Key made when the form was rendered means a double click pays once.
``GET /shop/products/{product_id}/buy/closed``
    The empty placeholder, for the form's Cancel button.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import requires_signed_in
from kernel.errors import DomainError, NotFound
from shop.catalog.deals import DealInfo, get_deal
from shop.catalog.products import CatalogService
from shop.orders.checkout import Checkout
from shop.views import product_out
from shop.web.display import CARDS, COUNTRIES
from shop.web.forms import checkout_in, checkout_values, field_errors
from shop.web.idempotent import keyed_checkout
from shop.web.rendering import fragment

TEMPLATE = "shop/partials/_quick_buy.html"
CONTEXT_FIELDS = ("post_id", "room_id", "deal_id")


def _context(values: dict[str, str]) -> dict[str, str]:
    return {k: v[:64] for k in CONTEXT_FIELDS if (v := values.get(k, "").strip())}


class QuickBuy(Controller):
    path = "/shop/products/{product_id:uuid}/buy"

    @get("/")
    async def form(
        self,
        request: Request[Any, Any, Any],
        product_id: FromPath[UUID],
        catalog: NamedDependency[CatalogService],
        db_session: NamedDependency[AsyncSession],
        quantity: FromQuery[int] = 1,
    ) -> Response[Any]:
        product = product_out(await catalog.view(product_id))
        context = _context(dict(request.query_params))
        user = request.user
        values = {"quantity": str(max(1, quantity)), "country": "US", "card": "tok_ok"}
        if user is not None:
            values["name"] = user.display_name
        deal = await _deal(db_session, product_id, context)
        return _render(product, deal, context, values, {}, str(uuid.uuid4()), signin_next=_here(request))

    @get("/closed")
    async def closed(self, product_id: FromPath[UUID]) -> Response[Any]:
        return fragment(TEMPLATE, state="closed", p={"id": str(product_id)})

    @post("/", guards=[requires_signed_in], status_code=200)
    async def buy(
        self,
        request: HTMXRequest,
        product_id: FromPath[UUID],
        catalog: NamedDependency[CatalogService],
        checkout: NamedDependency[Checkout],
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> Response[Any]:
        form = await request.form()
        values = checkout_values(form, "quantity")
        context = _context({k: str(form.get(k, "")) for k in CONTEXT_FIELDS})
        key = str(form.get("idempotency_key", ""))
        item: dict[str, Any] = {
            "product_id": str(product_id),
            "quantity": values["quantity"],
            "source": {k: v for k, v in context.items() if k != "deal_id"} or None,
        }
        if "deal_id" in context:
            item["deal_id"] = context["deal_id"]
        try:
            answer = await keyed_checkout(checkout, request.user, checkout_in(values, [item]), key)
        except DomainError as exc:
            await db_session.rollback()  # nothing reserved or charged stays
            product = product_out(await catalog.view(product_id))
            deal = await _deal(db_session, product_id, context)
            return _render(product, deal, context, values, field_errors(exc), key, status_code=exc.status)
        body = answer.body
        if not request.htmx:  # a plain form post (no script): on to the orders page, as the checkout page does
            return Redirect(f"/shop/orders?placed={body['checkout_id']}", status_code=303)
        product = product_out(await catalog.view(product_id))
        return fragment(
            TEMPLATE,
            state="placed",
            p=product,
            checkout_id=body["checkout_id"],
            orders=body.get("orders", []),
        )


def _here(request: Request[Any, Any, Any]) -> str:
    """The page the form opened in (htmx sends it), to come back to after signing in."""
    current = request.headers.get("hx-current-url", "")
    base = str(request.base_url).rstrip("/")
    return current[len(base) :] if current.startswith(base) else "/"


async def _deal(session: AsyncSession, product_id: UUID, context: dict[str, str]) -> DealInfo | None:
    """The live deal the form was opened for, so the form shows the price checkout will charge."""
    try:
        deal = await get_deal(session, UUID(context["deal_id"]))
    except (KeyError, ValueError, NotFound):
        return None  # no deal, or one checkout will refuse with a clear error
    return deal if deal.product_id == product_id else None


def _render(
    product: Any,
    deal: DealInfo | None,
    context: dict[str, str],
    values: dict[str, str],
    errors: dict[str, str],
    key: str,
    status_code: int = 200,
    signin_next: str = "/",
) -> Response[Any]:
    return fragment(
        TEMPLATE,
        status_code=status_code,
        state="form",
        p=product,
        deal=deal,
        context=context,
        values=values,
        errors=errors,
        key=key,
        cards=CARDS,
        countries=COUNTRIES,
        signin_next=signin_next,
    )
