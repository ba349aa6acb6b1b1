"""HTML pages and htmx fragments of the shop: the catalog, the cart and checkout; ``SHOP_PAGES`` lists them all.

Every form works as a plain HTML form (a 303 back to a page) and, with htmx, swaps just the fragment it changed,
rendered from the same partial as the page, plus the header's cart badge out of band. Mistakes a form can show
beside its fields are caught and shown there; any other DomainError becomes a toast or an error page through
kernel.problems. The buyer's orders are in shop.web.order_pages; seller and admin pages in shop.web.seller_pages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import requires_signed_in
from kernel.errors import DomainError
from kernel.money import Money
from shop.attribution import coupons
from shop.attribution.coupons import CouponService, code_key
from shop.catalog.products import CatalogService, ProductSort, parse_uuid
from shop.models import Coupon
from shop.orders.carts import CartLine, CartService
from shop.orders.checkout import Checkout
from shop.schemas import CartItemIn
from shop.views import product_out
from shop.web.display import CARDS, COUNTRIES, SORTS
from shop.web.dispute_pages import DISPUTE_PAGES
from shop.web.forms import checkout_in, checkout_values, convert, field_errors, whole_number
from shop.web.idempotent import keyed_checkout
from shop.web.order_pages import OrderPages
from shop.web.quick_buy import QuickBuy
from shop.web.rendering import fragment, go, me, my_id, page, toast
from shop.web.seller_pages import SELLER_PAGES

Catalog = NamedDependency[CatalogService]
Carts = NamedDependency[CartService]
PAGE_SIZE = 12
SOURCE_FIELDS = ("room_id", "post_id", "ref")


# Catalog ------------------------------------------------------------------------------------------------------
async def _listing(
    catalog: CatalogService, q: str | None, category: str | None, sort: ProductSort, cursor: str | None
) -> dict[str, Any]:
    q = (q or "").strip()[:100] or None
    views, next_cursor = await catalog.search(q=q, category=category or None, sort=sort, limit=PAGE_SIZE, cursor=cursor)
    filters = {k: v for k, v in (("q", q), ("category", category), ("sort", sort)) if v and v != "newest"}
    return {
        "products": [product_out(v) for v in views],
        "filters": {"q": q or "", "category": category or "", "sort": sort},
        "query": urlencode(filters),
        "more_query": urlencode({**filters, "cursor": next_cursor}) if next_cursor else None,
        "paged": cursor is not None,
    }


class CatalogPages(Controller):
    path = "/shop"

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        catalog: Catalog,
        carts: Carts,
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        sort: FromQuery[ProductSort] = "newest",
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        listing = await _listing(catalog, q, category, sort, cursor)
        return await page(
            request, "shop/index.html", carts, categories=await catalog.categories(), sorts=SORTS, **listing
        )

    @get("/results")
    async def results(
        self,
        catalog: Catalog,
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        sort: FromQuery[ProductSort] = "newest",
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """Fragments: the next page of cards (appended by "Load more"), or new results for changed filters."""
        listing = await _listing(catalog, q, category, sort, cursor)
        if cursor:
            return fragment("shop/partials/_product_cards.html", **listing)
        push = "/shop" + (f"?{listing['query']}" if listing["query"] else "")
        return HTMXTemplate(template_name="shop/partials/_product_results.html", context=listing, push_url=push)

    @get("/products/{product_id:uuid}")
    async def product(
        self,
        request: Request[Any, Any, Any],
        product_id: FromPath[UUID],
        catalog: Catalog,
        carts: Carts,
    ) -> Template:
        """A product; ``?room_id=``, ``?post_id=`` or ``?ref=`` name where the buyer came from (kept in the cart)."""
        viewer = request.user.id if request.user is not None else None
        p = product_out(await catalog.view(product_id, viewer))
        category = next((c for c in await catalog.categories() if c.slug == p.category), None)
        source = {k: v[:64] for k in SOURCE_FIELDS if (v := request.query_params.get(k))}
        return await page(request, "shop/product.html", carts, p=p, category=category, source=source)


# Cart ---------------------------------------------------------------------------------------------------------
def _total(lines: list[CartLine], currency: str) -> Money:
    return sum((line.amount for line in lines), Money.zero(currency))


class CartPages(Controller):
    path = "/shop/cart"
    guards = [requires_signed_in]

    @get("/")
    async def cart(self, request: Request[Any, Any, Any], carts: Carts, state: State) -> Template:
        lines = await carts.lines(my_id(request))
        return await page(request, "shop/cart.html", carts, lines=lines, total=_total(lines, _currency(state)))

    @get("/badge")
    async def badge(self, request: Request[Any, Any, Any], carts: Carts) -> Template:
        """The header's count, for pages outside the shop that render the badge empty and load it."""
        lines = await carts.lines(my_id(request))
        return fragment("shop/partials/_cart_badge.html", cart_count=sum(line.quantity for line in lines))

    @post("/items", status_code=200)
    async def add(self, request: HTMXRequest, carts: Carts) -> Response[Any]:
        form = await request.form()
        item = convert(
            {
                "product_id": form.get("product_id", ""),
                "quantity": whole_number(form.get("quantity", "1"), "quantity"),
                "source": {k: v for k in SOURCE_FIELDS if (v := form.get(k))} or None,
            },
            CartItemIn,
        )
        source = item.source.as_dict() if item.source else None
        await carts.add(my_id(request), parse_uuid(item.product_id), item.quantity, source)
        if not request.htmx:
            return Redirect("/shop/cart", status_code=303)
        lines = await carts.lines(my_id(request))
        added = next((line.product.title for line in lines if str(line.product.id) == item.product_id), "")
        return fragment(
            "shop/partials/_cart_added.html",
            cart_count=sum(line.quantity for line in lines),
            toast=toast("Added to your cart", f"{added} (quantity {item.quantity})"),
        )

    @post("/items/{product_id:uuid}", status_code=200)
    async def set_quantity(
        self, request: HTMXRequest, product_id: FromPath[UUID], carts: Carts, state: State
    ) -> Response[Any]:
        form = await request.form()
        typed = str(form.get("quantity", "0"))
        try:
            quantity = whole_number(typed, "quantity")
        except DomainError as exc:
            lines = await carts.lines(my_id(request))
            failed = {"id": product_id, "error": exc.detail, "value": typed.strip()[:20]}
            context = {"lines": lines, "total": _total(lines, _currency(state)), "failed": failed}
            if request.htmx:
                return fragment("shop/partials/_cart.html", status_code=exc.status, **context)
            return await page(request, "shop/cart.html", carts, status_code=exc.status, **context)
        await carts.set_quantity(my_id(request), product_id, quantity)
        return await self._changed(request, carts, state)

    @post("/items/{product_id:uuid}/remove", status_code=200)
    async def remove(
        self, request: HTMXRequest, product_id: FromPath[UUID], carts: Carts, state: State
    ) -> Response[Any]:
        await carts.remove(my_id(request), product_id)
        return await self._changed(request, carts, state)

    async def _changed(self, request: HTMXRequest, carts: CartService, state: State) -> Response[Any]:
        if not request.htmx:
            return Redirect("/shop/cart", status_code=303)
        lines = await carts.lines(my_id(request))
        return fragment(
            "shop/partials/_cart.html",
            lines=lines,
            total=_total(lines, _currency(state)),
            cart_count=sum(line.quantity for line in lines),
            oob_badge=True,
        )


def _currency(state: State) -> str:
    return state.settings.shop.currency


# Checkout -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Quote:
    """What the buyer will be charged, shown before paying: the basket, the coupon's discount and the total."""

    subtotal: Money
    coupon: Coupon | None = None
    discount_minor: int = 0

    @property
    def discount(self) -> Money:
        return Money(self.discount_minor, self.subtotal.currency)

    @property
    def total(self) -> Money:
        return self.subtotal - self.discount


async def _quote(session: AsyncSession, state: State, lines: list[CartLine], code: str) -> Quote:
    """The basket priced with the coupon ``code`` (none when empty), as checkout will charge it."""
    subtotal = _total(lines, _currency(state))
    if not code or not lines:
        return Quote(subtotal)
    coupon = await CouponService(session, state.clock).find(code)
    off = coupons.discounts(coupon, [line.amount for line in lines])
    return Quote(subtotal, coupon, sum(d.amount_minor for d in off))


def _checkout_context(
    lines: list[CartLine], quote: Quote, key: str, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "lines": lines,
        "quote": quote,
        "total": quote.total,
        "key": key,
        "values": values,
        "errors": errors,
        "cards": CARDS,
        "countries": COUNTRIES,
    }


class CheckoutPages(Controller):
    path = "/shop/checkout"
    guards = [requires_signed_in]

    @get("/")
    async def checkout_page(self, request: Request[Any, Any, Any], carts: Carts, state: State) -> Response[Any]:
        """The basket as it is now, and a fresh Idempotency-Key: submitting twice pays once."""
        lines = await carts.lines(my_id(request))
        if not lines:
            return Redirect("/shop/cart")
        values = {"name": me(request).display_name, "country": "US", "card": "tok_ok"}
        context = _checkout_context(lines, Quote(_total(lines, _currency(state))), str(uuid.uuid4()), values, {})
        return await page(request, "shop/checkout.html", carts, **context)

    @post("/", status_code=200)
    async def place_order(
        self,
        request: HTMXRequest,
        carts: Carts,
        checkout: NamedDependency[Checkout],
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> Response[Any]:
        """Pay for the items the checkout page showed (its hidden fields), with the page's Idempotency-Key."""
        form = await request.form()
        key = form.get("idempotency_key", "")
        values = checkout_values(form)
        sources = form.getall("source", [])  # one per line, "" where the line has none
        items = [
            {"product_id": product_id, "quantity": quantity, "source": sources[index] if index < len(sources) else ""}
            for index, (product_id, quantity) in enumerate(
                zip(form.getall("product_id", []), form.getall("quantity", []), strict=False)
            )
        ]
        shown = str(form.get("quoted_coupon", ""))
        try:
            if form.get("apply") or code_key(values["coupon_code"]) != code_key(shown):
                # The total shown is the total charged: a coupon is applied, or changed, before anyone pays.
                lines = await carts.lines(my_id(request))
                quote = await _quote(db_session, state, lines, values["coupon_code"])
                context = _checkout_context(lines, quote, key, values, {})
                return await self._form(request, carts, 200, context)
            answer = await keyed_checkout(checkout, me(request), checkout_in(values, items), key)
        except DomainError as exc:
            await db_session.rollback()  # nothing reserved, claimed or charged stays; the page reads the cart afresh
            lines = await carts.lines(my_id(request))
            errors = field_errors(exc)
            try:
                quote = await _quote(db_session, state, lines, shown)
            except DomainError:
                quote = Quote(_total(lines, _currency(state)))
            if "coupon_code" in errors:  # unknown or paused: the total shown is the basket's, without it
                quote = Quote(quote.subtotal)
            return await self._form(request, carts, exc.status, _checkout_context(lines, quote, key, values, errors))
        return go(request, f"/shop/orders?placed={answer.body['checkout_id']}")

    async def _form(
        self, request: HTMXRequest, carts: CartService, status_code: int, context: dict[str, Any]
    ) -> Template:
        if request.htmx:
            return fragment("shop/partials/_checkout_form.html", status_code=status_code, **context)
        return await page(request, "shop/checkout.html", carts, status_code=status_code, **context)


SHOP_PAGES = [CatalogPages, CartPages, CheckoutPages, OrderPages, QuickBuy, *SELLER_PAGES, *DISPUTE_PAGES]
