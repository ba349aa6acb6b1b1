"""The seller's page for one product: its details, its pictures (add, order, delete) and taking it off sale.

Same shape as the other shop pages: each form works as a plain HTML form (a 303 back to the page) and, with htmx,
swaps just its part of the page; a mistake is shown beside the field it concerns.
"""

from __future__ import annotations

from pathlib import Path
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
from kernel.errors import DomainError, Forbidden, RuleBroken
from shop.catalog.images import MAX_IMAGE_BYTES, MAX_IMAGES_PER_PRODUCT
from shop.catalog.products import CatalogService
from shop.orders.carts import CartService
from shop.schemas import ProductOut, ProductPatch
from shop.views import product_out
from shop.web.display import major_units
from shop.web.forms import field_errors, product_form, product_values, uploads, whole_number
from shop.web.rendering import fragment, go, my_id, page, toast

Catalog = NamedDependency[CatalogService]
Carts = NamedDependency[CartService]
Db = NamedDependency[AsyncSession]
# A form may carry several pictures at once; each is checked against MAX_IMAGE_BYTES on its own.
UPLOAD_BODY_LIMIT = 4 * MAX_IMAGE_BYTES + 256 * 1024


async def add_pictures(
    catalog: CatalogService, seller_id: UUID, product_id: UUID, media_dir: Path, form: Any, field: str
) -> int:
    """Add the pictures chosen in the form's file field, in order; a refusal names that field."""
    files = await uploads(form, field)
    for data in files:
        try:
            await catalog.add_image(seller_id, product_id, media_dir, data)
        except RuleBroken as exc:
            raise RuleBroken(exc.code, exc.detail, errors=[{"field": field, "message": exc.detail}]) from None
    return len(files)


def _values(p: ProductOut) -> dict[str, str]:
    return {
        "title": p.title,
        "category": p.category,
        "price": major_units(p.price),
        "stock": str(p.stock),
        "affiliate_rate": f"{p.affiliate_rate_bps / 100:g}",
        "description": p.description,
    }


class ProductPages(Controller):
    path = "/shop/seller/products"
    guards = [requires_role(Role.SELLER)]

    async def _mine(self, request: Request[Any, Any, Any], catalog: CatalogService, product_id: UUID) -> ProductOut:
        """The seller's own product; anyone else's is not found, as on the JSON API's reads."""
        view = await catalog.view(product_id, my_id(request))
        if view.product.seller_id != my_id(request):
            raise Forbidden("not_your_product", "Only the product's seller can change it.")
        return product_out(view)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        catalog: CatalogService,
        carts: CartService,
        product_id: UUID,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        p = await self._mine(request, catalog, product_id)
        context = {"product_values": _values(p), "product_errors": {}, "picture_errors": {}, **context}
        return await page(
            request,
            "shop/product_edit.html",
            carts,
            status_code=status_code,
            p=p,
            categories=await catalog.categories(),
            max_pictures=MAX_IMAGES_PER_PRODUCT,
            **context,
        )

    @get("/{product_id:uuid}")
    async def edit(
        self, request: Request[Any, Any, Any], product_id: FromPath[UUID], catalog: Catalog, carts: Carts
    ) -> Template:
        return await self._page(request, catalog, carts, product_id)

    @post("/{product_id:uuid}", status_code=200)
    async def save(
        self,
        request: HTMXRequest,
        product_id: FromPath[UUID],
        catalog: Catalog,
        carts: Carts,
        db_session: Db,
        state: State,
    ) -> Response[Any]:
        """Change the price, stock, text or category; what buyers see changes at once, orders placed keep theirs."""
        form = await request.form()
        values = product_values(form)
        try:
            patch = product_form(values, state.settings.shop.currency, ProductPatch)
            await catalog.update(my_id(request), product_id, patch)
        except DomainError as exc:
            await db_session.rollback()
            errors = field_errors(exc)
            if request.htmx:
                p = await self._mine(request, catalog, product_id)
                return fragment(
                    "shop/partials/_product_form.html",
                    status_code=exc.status,
                    p=p,
                    editing=True,
                    categories=await catalog.categories(),
                    product_values=values,
                    product_errors=errors,
                )
            return await self._page(
                request, catalog, carts, product_id, exc.status, product_values=values, product_errors=errors
            )
        if not request.htmx:
            return Redirect(f"/shop/seller/products/{product_id}", status_code=303)
        p = await self._mine(request, catalog, product_id)
        return fragment(
            "shop/partials/_product_form.html",
            p=p,
            editing=True,
            categories=await catalog.categories(),
            product_values=_values(p),
            product_errors={},
            toast=toast("Changes saved", p.title),
        )

    @post("/{product_id:uuid}/images", status_code=200, request_max_body_size=UPLOAD_BODY_LIMIT)
    async def add_images(
        self,
        request: HTMXRequest,
        product_id: FromPath[UUID],
        catalog: Catalog,
        carts: Carts,
        db_session: Db,
        state: State,
    ) -> Response[Any]:
        form = await request.form()
        try:
            added = await add_pictures(catalog, my_id(request), product_id, state.settings.media_dir, form, "pictures")
            if not added:
                raise RuleBroken(
                    "no_picture", "Choose a picture first.", errors=[{"field": "pictures", "message": "Choose a file."}]
                )
        except DomainError as exc:
            await db_session.rollback()
            return await self._pictures(request, catalog, carts, product_id, exc.status, errors=field_errors(exc))
        done = toast("Picture added" if added == 1 else f"{added} pictures added")
        return await self._pictures(request, catalog, carts, product_id, done=done)

    @post("/{product_id:uuid}/images/{image_id:uuid}/move", status_code=200)
    async def move_image(
        self,
        request: HTMXRequest,
        product_id: FromPath[UUID],
        image_id: FromPath[UUID],
        catalog: Catalog,
        carts: Carts,
    ) -> Response[Any]:
        """Move one picture to the place the button names (0 makes it the cover)."""
        form = await request.form()
        order = [image.id for image in await catalog.images(product_id) if image.id != image_id]
        place = min(max(whole_number(str(form.get("to", "0")), "to"), 0), len(order))
        order.insert(place, image_id)
        await catalog.reorder_images(my_id(request), product_id, order)
        return await self._pictures(request, catalog, carts, product_id, done=toast("Pictures reordered"))

    @post("/{product_id:uuid}/images/{image_id:uuid}/delete", status_code=200)
    async def delete_image(
        self,
        request: HTMXRequest,
        product_id: FromPath[UUID],
        image_id: FromPath[UUID],
        catalog: Catalog,
        carts: Carts,
        state: State,
    ) -> Response[Any]:
        await catalog.delete_image(my_id(request), product_id, image_id, state.settings.media_dir)
        return await self._pictures(request, catalog, carts, product_id, done=toast("Picture deleted"))

    async def _pictures(
        self,
        request: HTMXRequest,
        catalog: CatalogService,
        carts: CartService,
        product_id: UUID,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        done: dict[str, Any] | None = None,
    ) -> Response[Any]:
        """After a change to the pictures: htmx swaps their section; a plain form goes back to the page."""
        if not request.htmx:
            if errors:
                return await self._page(request, catalog, carts, product_id, status_code, picture_errors=errors)
            return Redirect(f"/shop/seller/products/{product_id}#product-pictures", status_code=303)
        return fragment(
            "shop/partials/_product_pictures.html",
            status_code=status_code,
            p=await self._mine(request, catalog, product_id),
            picture_errors=errors or {},
            max_pictures=MAX_IMAGES_PER_PRODUCT,
            toast=done,
        )

    @post("/{product_id:uuid}/archive", status_code=200)
    async def archive(
        self, request: HTMXRequest, product_id: FromPath[UUID], catalog: Catalog, state: State
    ) -> Response[Any]:
        """Take the product off sale; the page says so and offers to put it back."""
        await catalog.archive(my_id(request), product_id, state.clock.now())
        return go(request, f"/shop/seller/products/{product_id}")

    @post("/{product_id:uuid}/unarchive", status_code=200)
    async def unarchive(self, request: HTMXRequest, product_id: FromPath[UUID], catalog: Catalog) -> Response[Any]:
        await catalog.unarchive(my_id(request), product_id)
        return go(request, f"/shop/seller/products/{product_id}")
