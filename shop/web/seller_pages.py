"""Seller and admin pages: the seller's dashboard (products, orders to ship, balances), the earnings timeline, and
the admins' queue of escalated disputes. Same shape as shop.web.pages: plain forms that htmx upgrades to fragment swaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import Role, requires_role
from kernel.errors import DomainError
from kernel.money import Money
from shop.catalog.products import CatalogService
from shop.models import Dispute, OrderStatus
from shop.money import ledger
from shop.orders.carts import CartService
from shop.orders.disputes import DisputeService
from shop.orders.lifecycle import OrderService, OrderView
from shop.schemas import ProductIn, ResolveIn, ShipIn
from shop.views import order_out, product_out
from shop.web.display import POSTING_KINDS, absolute, major_units, short_id, span
from shop.web.forms import convert, field_errors, minor_units, product_form, product_values
from shop.web.product_pages import UPLOAD_BODY_LIMIT, ProductPages, add_pictures
from shop.web.rendering import fragment, me, my_id, page, toast
from shop.web.sales_pages import SalesPages

Catalog = NamedDependency[CatalogService]
Carts = NamedDependency[CartService]
Orders = NamedDependency[OrderService]
Disputes = NamedDependency[DisputeService]
Db = NamedDependency[AsyncSession]


# Seller dashboard -------------------------------------------------------------------------------------------------
async def _balances(session: AsyncSession, user_id: UUID, currency: str, now: datetime) -> dict[str, Money]:
    party = await ledger.party_balance(session, ledger.party_accounts(user_id), currency, now)
    escrow = await ledger.seller_escrow(session, user_id, currency)
    return {"pending": party.pending, "available": party.available, "paid_out": party.paid_out, "in_escrow": escrow}


class SellerPages(Controller):
    path = "/shop/seller"
    guards = [requires_role(Role.SELLER)]

    async def _dashboard(
        self,
        request: Request[Any, Any, Any],
        catalog: CatalogService,
        orders: OrderService,
        carts: CartService,
        session: AsyncSession,
        state: State,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        user, now = me(request), state.clock.now()
        to_ship, _ = await orders.list_for(user, "seller", OrderStatus.PAID, 50)
        recent, _ = await orders.list_for(user, "seller", None, 10)
        products, _ = await catalog.search(seller_id=my_id(request), include_archived=True, limit=50)
        context = {
            "product_values": {"stock": "1", "affiliate_rate": "10"},
            "product_errors": {},
            "failed": None,
            **context,
        }
        return await page(
            request,
            "shop/seller.html",
            carts,
            status_code=status_code,
            now=now,
            balances=await _balances(session, my_id(request), state.settings.shop.currency, now),
            to_ship=await orders.views(to_ship),
            recent=[order_out(v) for v in await orders.views(recent)],
            products=[product_out(v) for v in products],
            categories=await catalog.categories(),
            **context,
        )

    @get("/")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        catalog: Catalog,
        orders: Orders,
        carts: Carts,
        db_session: Db,
        state: State,
    ) -> Template:
        return await self._dashboard(request, catalog, orders, carts, db_session, state)

    @post("/products", status_code=200, request_max_body_size=UPLOAD_BODY_LIMIT)
    async def create_product(
        self,
        request: HTMXRequest,
        catalog: Catalog,
        orders: Orders,
        carts: Carts,
        db_session: Db,
        state: State,
    ) -> Response[Any]:
        """List a product, with the pictures chosen in the same form (the first is the cover)."""
        form = await request.form()
        values = product_values(form)
        try:
            product = await catalog.create(
                my_id(request), product_form(values, state.settings.shop.currency, ProductIn)
            )
            await add_pictures(catalog, my_id(request), product.id, state.settings.media_dir, form, "pictures")
        except DomainError as exc:
            await db_session.rollback()  # the product and every picture row go together, or not at all
            errors = field_errors(exc)
            if request.htmx:
                # Read after the rollback: rows loaded before it are expired and cannot load lazily here.
                return fragment(
                    "shop/partials/_product_form.html",
                    status_code=exc.status,
                    categories=await catalog.categories(),
                    product_values=values,
                    product_errors=errors,
                )
            return await self._dashboard(
                request,
                catalog,
                orders,
                carts,
                db_session,
                state,
                exc.status,
                product_values=values,
                product_errors=errors,
            )
        if not request.htmx:
            return Redirect("/shop/seller#products", status_code=303)
        return fragment(
            "shop/partials/_product_created.html",
            categories=await catalog.categories(),
            product_values={"stock": "1", "affiliate_rate": "10", "category": values["category"]},
            product_errors={},
            p=product_out(await catalog.view(product.id, my_id(request))),
            toast=toast("Product listed", product.title),
        )

    @post("/orders/{order_id:uuid}/ship", status_code=200)
    async def ship(
        self,
        request: HTMXRequest,
        order_id: FromPath[UUID],
        catalog: Catalog,
        orders: Orders,
        carts: Carts,
        db_session: Db,
        state: State,
    ) -> Response[Any]:
        form = await request.form()
        values = {name: form.get(name, "").strip() for name in ("carrier", "tracking_number")}
        try:
            data = convert(values, ShipIn)
            order = await orders.ship(me(request), order_id, data.carrier, data.tracking_number)
        except DomainError as exc:
            await db_session.rollback()
            failed = {"id": order_id, "errors": field_errors(exc), "values": values}
            if request.htmx:
                view = await orders.view(await orders.visible(me(request), order_id))
                return fragment(
                    "shop/partials/_sale.html", status_code=exc.status, v=view, now=state.clock.now(), failed=failed
                )
            return await self._dashboard(request, catalog, orders, carts, db_session, state, exc.status, failed=failed)
        if not request.htmx:
            return Redirect("/shop/seller#to-ship", status_code=303)
        return fragment(
            "shop/partials/_sale.html",
            v=await orders.view(order),
            now=state.clock.now(),
            failed=None,
            toast=toast("Marked as shipped", f"{order.carrier} {order.tracking_number}"),
        )


# Earnings ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EarningLine:
    posting: ledger.PartyPosting
    kind: str
    when_available: str
    fees: ledger.FeeBreakdown | None  # how a sale's amount divided, on the seller's own lines


def _earning_lines(
    postings: list[ledger.PartyPosting],
    fees: dict[UUID, ledger.FeeBreakdown],
    window: str,
    now: datetime,
    labels: dict[str, str],
) -> list[EarningLine]:
    lines = []
    for p in postings:
        order = f"order {short_id(p.order_id)}" if p.order_id else ""
        if p.kind == ledger.EntryKind.PAYOUT:
            note = "Sent to your payout account"
        elif p.available_at <= now:
            note = f"Available since {absolute(p.available_at)}"
        elif p.kind == ledger.EntryKind.RELEASE:
            note = f"Available {absolute(p.available_at)}, after the {window} Buyer Protection window on {order}"
        else:
            note = f"Taken from your pending balance for {order}, before it becomes available"
        label = labels.get(p.kind, p.kind.replace("_", " ").capitalize())
        breakdown = fees.get(p.entry_id) if p.account.startswith("seller_payable:") else None
        lines.append(EarningLine(p, label, note, breakdown))
    return lines


class EarningsPages(Controller):
    path = "/shop/seller/earnings"
    guards = [requires_role(Role.SELLER, Role.INFLUENCER)]

    @get("/")
    async def earnings(self, request: Request[Any, Any, Any], carts: Carts, db_session: Db, state: State) -> Template:
        """Every movement on the user's seller and creator payables, and when each one can be paid out."""
        now, shop = state.clock.now(), state.settings.shop
        postings = await ledger.party_postings(db_session, ledger.party_accounts(my_id(request)))
        fees = await ledger.fee_breakdowns(db_session, {p.entry_id for p in postings})
        return await page(
            request,
            "shop/earnings.html",
            carts,
            balances=await _balances(db_session, my_id(request), shop.currency, now),
            lines=_earning_lines(postings, fees, span(shop.dispute_window), now, POSTING_KINDS),
            window=span(shop.dispute_window),
        )


# Admin: disputes --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DisputeCase:
    dispute: Dispute
    order: OrderView

    @property
    def suggested_refund(self) -> str:
        """What the buyer asked for, capped at what is still refundable, as typed into the form."""
        order = self.order.order
        return major_units(Money(min(self.dispute.requested_minor, order.refundable.amount_minor), order.currency))


class AdminDisputePages(Controller):
    path = "/admin/disputes"
    guards = [requires_role(Role.ADMIN)]

    @get("/")
    async def queue(
        self, request: Request[Any, Any, Any], disputes: Disputes, orders: Orders, carts: Carts
    ) -> Template:
        """Disputes the seller rejected or ignored: the admin's decision is final."""
        queue = await disputes.queue()
        cases = await _cases(orders, request, queue)
        return await page(request, "shop/admin_disputes.html", carts, cases=cases, failed=None)

    @post("/{dispute_id:uuid}/resolve", status_code=200)
    async def resolve(
        self,
        request: HTMXRequest,
        dispute_id: FromPath[UUID],
        disputes: Disputes,
        orders: Orders,
        carts: Carts,
        db_session: Db,
    ) -> Response[Any]:
        form = await request.form()
        values = {name: form.get(name, "").strip() for name in ("outcome", "amount", "note")}
        try:
            dispute = await disputes.get(me(request), dispute_id)
            amount = None
            if values["outcome"] == "refund":
                minor = minor_units(values["amount"], dispute.currency, "amount")
                amount = {"amount_minor": minor, "currency": dispute.currency}
            data = convert({"outcome": values["outcome"], "amount": amount, "note": values["note"]}, ResolveIn)
            dispute = await disputes.resolve(me(request), dispute_id, data)
        except DomainError as exc:
            await db_session.rollback()
            failed = {"id": dispute_id, "errors": field_errors(exc), "values": values}
            if request.htmx:
                (case,) = await _cases(orders, request, [await disputes.get(me(request), dispute_id)])
                return fragment("shop/partials/_dispute_case.html", status_code=exc.status, case=case, failed=failed)
            cases = await _cases(orders, request, await disputes.queue())
            return await page(
                request, "shop/admin_disputes.html", carts, status_code=exc.status, cases=cases, failed=failed
            )
        if not request.htmx:
            return Redirect("/admin/disputes", status_code=303)
        (case,) = await _cases(orders, request, [dispute])
        done = toast("Refund sent" if dispute.status == "refunded" else "Dispute rejected")
        return fragment("shop/partials/_dispute_case.html", case=case, failed=None, toast=done)


async def _cases(orders: OrderService, request: Request[Any, Any, Any], queue: list[Dispute]) -> list[DisputeCase]:
    found = [await orders.visible(me(request), d.order_id) for d in queue]
    views = {v.order.id: v for v in await orders.views(found)} if found else {}
    return [DisputeCase(d, views[d.order_id]) for d in queue]


SELLER_PAGES = [SellerPages, ProductPages, SalesPages, EarningsPages, AdminDisputePages]
