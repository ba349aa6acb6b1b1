"""The admin console's shop sections: categories and their commission, payout runs, the ledger.

Plain HTML forms answered with a 303 back to the section; a refused form renders the section again with each
message beside its field and the status the JSON API would answer. The dispute queue is in shop.web.seller_pages.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import Role, requires_role
from kernel.errors import DomainError, RuleBroken
from shop.catalog.products import CatalogService
from shop.money import ledger
from shop.orders.carts import CartService
from shop.schemas import CategoryIn, CategoryPatch
from shop.web.admin_views import ledger_accounts_out, payout_runs_out, trial_balance_out
from shop.web.forms import basis_points, convert, field_errors
from shop.web.idempotent import keyed_payout_run
from shop.web.rendering import page

Catalog = NamedDependency[CatalogService]
Carts = NamedDependency[CartService]
Db = NamedDependency[AsyncSession]
PAGE_SIZE = 25
MAX_COMMISSION_BPS = 2000  # the shop_category check constraint


def _commission(text: str) -> int:
    """The commission field (a percentage) as basis points, within what a category may take."""
    bps = basis_points(text, "commission")
    if bps > MAX_COMMISSION_BPS:
        message = f"At most {MAX_COMMISSION_BPS // 100}%."
        raise RuleBroken("invalid_form", message, errors=[{"field": "commission", "message": message}])
    return bps


class CategoryPages(Controller):
    path = "/admin/categories"
    guards = [requires_role(Role.ADMIN)]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        catalog: CatalogService,
        carts: CartService,
        status: int = 200,
        **ctx: Any,
    ) -> Template:
        context = {"created": {"values": {}, "errors": {}}, "failed": None, **ctx}
        return await page(
            request, "shop/admin_categories.html", carts, status, categories=await catalog.categories(), **context
        )

    @get("/")
    async def index(self, request: Request[Any, Any, Any], catalog: Catalog, carts: Carts) -> Template:
        return await self._page(request, catalog, carts)

    @post("/", status_code=200)
    async def create(
        self, request: Request[Any, Any, Any], catalog: Catalog, carts: Carts, db_session: Db
    ) -> Response[Any]:
        form = await request.form()
        values = {name: str(form.get(name, "")).strip() for name in ("slug", "name", "commission")}
        try:
            data = {"slug": values["slug"], "name": values["name"], "commission_bps": _commission(values["commission"])}
            await catalog.add_category(convert(data, CategoryIn, {"commission_bps": "commission"}))
        except DomainError as exc:
            await db_session.rollback()
            created = {"values": values, "errors": field_errors(exc)}
            return await self._page(request, catalog, carts, exc.status, created=created)
        return Redirect(f"/admin/categories?saved={values['slug']}", status_code=303)

    @post("/{slug:str}", status_code=200)
    async def update(
        self, request: Request[Any, Any, Any], slug: FromPath[str], catalog: Catalog, carts: Carts, db_session: Db
    ) -> Response[Any]:
        form = await request.form()
        values = {name: str(form.get(name, "")).strip() for name in ("name", "commission")}
        try:
            data = {"name": values["name"], "commission_bps": _commission(values["commission"])}
            await catalog.update_category(slug, convert(data, CategoryPatch, {"commission_bps": "commission"}))
        except DomainError as exc:
            await db_session.rollback()
            if exc.status == 404:
                raise
            failed = {"slug": slug, "values": values, "errors": field_errors(exc)}
            return await self._page(request, catalog, carts, exc.status, failed=failed)
        return Redirect(f"/admin/categories?saved={slug}", status_code=303)


class PayoutPages(Controller):
    path = "/admin/payouts"
    guards = [requires_role(Role.ADMIN)]

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], carts: Carts, db_session: Db, cursor: FromQuery[str | None] = None
    ) -> Template:
        """Run payouts now (the form carries a fresh Idempotency-Key: submitting twice runs once) and past runs."""
        runs = await payout_runs_out(db_session, PAGE_SIZE, cursor)
        return await page(request, "shop/admin_payouts.html", carts, runs=runs, key=str(uuid.uuid4()))

    @post("/run", status_code=200)
    async def run(self, request: Request[Any, Any, Any], db_session: Db, state: State) -> Response[Any]:
        form = await request.form()
        # The form's key is the API's Idempotency-Key: submitting the page twice runs once.
        key = str(form.get("idempotency_key", ""))
        answer = await keyed_payout_run(db_session, state, request.user.id, key)
        return Redirect(f"/admin/payouts?{urlencode({'paid': len(answer.body['payouts'])})}", status_code=303)


class LedgerPages(Controller):
    path = "/admin/ledger"
    guards = [requires_role(Role.ADMIN)]

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        carts: Carts,
        db_session: Db,
        state: State,
        kind: FromQuery[str | None] = None,
        owner: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """The trial balance per currency and every account's balance, by kind or owner, a page at a time."""
        filters = {"kind": kind or "", "owner": (owner or "").strip()}
        errors: dict[str, str] = {}
        owner_id = None
        if filters["owner"]:
            try:
                owner_id = UUID(filters["owner"])
            except ValueError:
                errors["owner"] = "Enter an order, seller or creator id."
        status = 422 if errors else 200
        try:
            accounts = await ledger_accounts_out(db_session, filters["kind"], owner_id, PAGE_SIZE, cursor)
        except DomainError as exc:
            errors, status = field_errors(exc), exc.status
            accounts = await ledger_accounts_out(db_session, None, None, PAGE_SIZE, None)
        query = {k: v for k, v in filters.items() if v}
        more = urlencode({**query, "cursor": accounts.next_cursor}) if accounts.next_cursor else None
        return await page(
            request,
            "shop/admin_ledger.html",
            carts,
            status,
            trial=await trial_balance_out(db_session, state.settings.shop.currency),
            accounts=accounts,
            kinds=ledger.ACCOUNT_KINDS,
            filters=filters,
            errors=errors,
            more_query=more,
        )


ADMIN_PAGES = [CategoryPages, PayoutPages, LedgerPages]
