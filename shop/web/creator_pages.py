"""A creator's referral links and coupons (/studio/links, /studio/coupons): make them, copy them, pause a coupon,
and see what each brought. Plain forms (a 303 back to the page, or the page again with each mistake beside its
field); pausing and resuming swap the coupon list in place under htmx.
"""

from __future__ import annotations

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
from kernel.errors import DomainError, RuleBroken
from shop.attribution import performance
from shop.attribution.coupons import CouponService, CouponStatus
from shop.attribution.links import LinkService, LinkTarget
from shop.attribution.schemas import CouponIn
from shop.orders.carts import CartService
from shop.views import products_by_id
from shop.web.forms import basis_points, convert, field_errors
from shop.web.rendering import fragment, my_id, page, toast

Carts = NamedDependency[CartService]
Db = NamedDependency[AsyncSession]
SHOWN = 100  # the newest links and coupons a page lists; the JSON API pages through all of them


class CreatorPages(Controller):
    path = "/studio"
    guards = [requires_role(Role.INFLUENCER)]

    # Referral links -----------------------------------------------------------------------------------------------
    async def _links(
        self,
        request: Request[Any, Any, Any],
        carts: CartService,
        session: AsyncSession,
        state: State,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
    ) -> Template:
        found = await performance.link_page(session, my_id(request), state.settings.shop.currency, SHOWN)
        products = await products_by_id(session, [i.target_id for i in found.items if i.target_id])
        return await page(
            request,
            "shop/creator_links.html",
            carts,
            status_code=status_code,
            links=found.items,
            titles={pid: p.title for pid, p in products.items()},
            base_url=str(request.base_url).rstrip("/"),
            errors=errors or {},
        )

    @get("/links")
    async def links(self, request: Request[Any, Any, Any], carts: Carts, db_session: Db, state: State) -> Template:
        return await self._links(request, carts, db_session, state)

    @post("/links", status_code=200)
    async def create_link(
        self, request: Request[Any, Any, Any], carts: Carts, db_session: Db, state: State
    ) -> Response[Any]:
        """A link to the storefront (``target=storefront``) or to a product (``product_id``)."""
        form = await request.form()
        try:
            if form.get("target") == LinkTarget.STOREFRONT:
                target, target_id = LinkTarget.STOREFRONT, None
            else:
                target, target_id = LinkTarget.PRODUCT, _uuid(str(form.get("product_id", "")))
            link = await LinkService(db_session, state.clock).create(my_id(request), target, target_id)
        except DomainError as exc:
            await db_session.rollback()
            errors = {("product_id" if k == "target.product_id" else k): v for k, v in field_errors(exc).items()}
            return await self._links(request, carts, db_session, state, exc.status, errors)
        return Redirect(f"/studio/links#link-{link.code}", status_code=303)

    # Coupons -------------------------------------------------------------------------------------------------------
    async def _coupon_context(self, request: Request[Any, Any, Any], session: AsyncSession, state: State) -> dict:
        found = await performance.coupon_page(session, my_id(request), state.settings.shop.currency, SHOWN)
        return {"coupons": found.items}

    @get("/coupons")
    async def coupons(self, request: Request[Any, Any, Any], carts: Carts, db_session: Db, state: State) -> Template:
        context = await self._coupon_context(request, db_session, state)
        return await page(request, "shop/creator_coupons.html", carts, values={}, errors={}, **context)

    @post("/coupons", status_code=200)
    async def create_coupon(
        self, request: Request[Any, Any, Any], carts: Carts, db_session: Db, state: State
    ) -> Response[Any]:
        form = await request.form()
        values = {name: str(form.get(name, "")).strip() for name in ("code", "discount")}
        try:
            bps = basis_points(values["discount"], "discount")
            data = convert({"code": values["code"], "discount_bps": bps}, CouponIn, {"discount_bps": "discount"})
            coupon = await CouponService(db_session, state.clock).create(my_id(request), data.code, data.discount_bps)
        except DomainError as exc:
            await db_session.rollback()
            errors = field_errors(exc)
            if "discount_bps" in errors:
                errors["discount"] = errors.pop("discount_bps")
            if exc.code == "coupon_code_taken":
                errors["code"] = "Taken: choose another code."
            context = await self._coupon_context(request, db_session, state)
            return await page(
                request,
                "shop/creator_coupons.html",
                carts,
                status_code=exc.status,
                values=values,
                errors=errors,
                **context,
            )
        return Redirect(f"/studio/coupons#coupon-{coupon.id}", status_code=303)

    @post("/coupons/{coupon_id:uuid}/pause", status_code=200)
    async def pause_coupon(
        self, request: HTMXRequest, coupon_id: FromPath[UUID], db_session: Db, state: State
    ) -> Response[Any]:
        return await self._set_status(request, coupon_id, CouponStatus.PAUSED, db_session, state)

    @post("/coupons/{coupon_id:uuid}/resume", status_code=200)
    async def resume_coupon(
        self, request: HTMXRequest, coupon_id: FromPath[UUID], db_session: Db, state: State
    ) -> Response[Any]:
        return await self._set_status(request, coupon_id, CouponStatus.ACTIVE, db_session, state)

    async def _set_status(
        self, request: HTMXRequest, coupon_id: UUID, status: CouponStatus, session: AsyncSession, state: State
    ) -> Response[Any]:
        """Another creator's coupon is not found, as in the JSON API."""
        coupon = await CouponService(session, state.clock).set_status(my_id(request), coupon_id, status)
        if not request.htmx:
            return Redirect(f"/studio/coupons#coupon-{coupon.id}", status_code=303)
        context = await self._coupon_context(request, session, state)
        done = toast("Coupon paused" if status is CouponStatus.PAUSED else "Coupon resumed", coupon.code)
        return fragment("shop/partials/_coupon_list.html", toast=done, **context)


def _uuid(text: str) -> UUID:
    try:
        return UUID(text.strip())
    except ValueError:
        raise RuleBroken(
            "unknown_product",
            "Choose a product from the search results.",
            errors=[{"field": "product_id", "message": "Choose a product from the search results."}],
        ) from None


CREATOR_PAGES = [CreatorPages]
