"""JSON handlers of the catalog and the cart (/api/shop): parse, call a service, map the result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post, put
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody

from kernel.auth import CurrentUser, Role, requires_role, requires_signed_in
from kernel.money import Money
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import not_found_when_malformed, problem_spec
from shop.catalog.images import MAX_IMAGE_BYTES
from shop.catalog.products import CatalogService, ProductSort, parse_uuid
from shop.orders.carts import CartService
from shop.schemas import (
    CartItemIn,
    CartLineOut,
    CartOut,
    CategoryOut,
    ImageOrderIn,
    ProductImageOut,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
)
from shop.views import image_out, product_out
from shop.web.responses import NOT_FOUND


class CatalogController(Controller):
    path = "/api/shop"
    tags = ["shop"]

    @get("/categories")
    async def categories(self, catalog: NamedDependency[CatalogService]) -> list[CategoryOut]:
        """Categories and the platform commission each one carries."""
        return [CategoryOut(c.slug, c.name, c.commission_bps) for c in await catalog.categories()]

    @post("/products", guards=[requires_role(Role.SELLER)], responses={422: problem_spec("Unknown category")})
    async def create_product(
        self,
        data: JSONBody[ProductIn],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
    ) -> ProductOut:
        """List a product for sale."""
        product = await catalog.create(current_user.id, data)
        return product_out(await catalog.view(product.id, current_user.id))

    @get("/products")
    async def list_products(
        self,
        request: Request[Any, Any, Any],
        catalog: NamedDependency[CatalogService],
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        seller_id: FromQuery[UUID | None] = None,
        sort: FromQuery[ProductSort] = "newest",
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> ProductPage:
        """Search the catalog; ``sort`` is newest, price_asc or price_desc; pages follow ``next_cursor``.

        Archived products are left out, except from a seller's own listing (``seller_id`` naming the caller)."""
        own = request.user is not None and seller_id == request.user.id
        views, next_cursor = await catalog.search(
            q=q, category=category, seller_id=seller_id, include_archived=own, sort=sort, limit=limit, cursor=cursor
        )
        return ProductPage([product_out(v) for v in views], next_cursor)

    @get("/products/{product_id:uuid}", responses={404: NOT_FOUND})
    async def get_product(
        self, request: Request[Any, Any, Any], product_id: FromPath[UUID], catalog: NamedDependency[CatalogService]
    ) -> ProductOut:
        """A product; an archived one is found by its seller alone."""
        return product_out(await catalog.view(product_id, _viewer(request)))

    @patch(
        "/products/{product_id:uuid}",
        guards=[requires_role(Role.SELLER)],
        responses={403: problem_spec("Not your product"), 404: NOT_FOUND},
    )
    async def update_product(
        self,
        product_id: FromPath[UUID],
        data: JSONBody[ProductPatch],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
    ) -> ProductOut:
        """Change a product's price, stock or text (its seller only)."""
        product = await catalog.update(current_user.id, product_id, data)
        return product_out(await catalog.view(product.id, current_user.id))

    @post(
        "/products/{product_id:uuid}/archive",
        guards=[requires_role(Role.SELLER)],
        status_code=200,
        responses={403: problem_spec("Not your product"), 404: NOT_FOUND},
    )
    async def archive_product(
        self,
        product_id: FromPath[UUID],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> ProductOut:
        """Take a product off sale: hidden from the shop, rooms, posts and carts; orders already placed go on."""
        product = await catalog.archive(current_user.id, product_id, state.clock.now())
        return product_out(await catalog.view(product.id, current_user.id))

    @post(
        "/products/{product_id:uuid}/unarchive",
        guards=[requires_role(Role.SELLER)],
        status_code=200,
        responses={403: problem_spec("Not your product"), 404: NOT_FOUND},
    )
    async def unarchive_product(
        self,
        product_id: FromPath[UUID],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
    ) -> ProductOut:
        """Put an archived product on sale again."""
        product = await catalog.unarchive(current_user.id, product_id)
        return product_out(await catalog.view(product.id, current_user.id))

    @get("/products/{product_id:uuid}/images", responses={404: NOT_FOUND})
    async def list_images(
        self, request: Request[Any, Any, Any], product_id: FromPath[UUID], catalog: NamedDependency[CatalogService]
    ) -> list[ProductImageOut]:
        """The product's pictures in order; the first is the cover."""
        return [image_out(i) for i in (await catalog.view(product_id, _viewer(request))).images]

    @post(
        "/products/{product_id:uuid}/images",
        guards=[requires_role(Role.SELLER)],
        request_max_body_size=MAX_IMAGE_BYTES + 64 * 1024,
        responses={
            403: problem_spec("Not your product"),
            404: NOT_FOUND,
            413: problem_spec("Image too large"),
            422: problem_spec("Not a PNG, JPEG or WebP image, or too many pictures"),
        },
    )
    async def add_image(
        self,
        product_id: FromPath[UUID],
        data: MultipartBody[ImageUpload],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> ProductImageOut:
        """Add a picture after the others (multipart field ``image``: PNG, JPEG or WebP, at most 5 MiB, 8 per
        product); a thumbnail is made at upload."""
        content = await data.image.read()
        return image_out(await catalog.add_image(current_user.id, product_id, state.settings.media_dir, content))

    @delete(
        "/products/{product_id:uuid}/images/{image_id:uuid}",
        guards=[requires_role(Role.SELLER)],
        responses={403: problem_spec("Not your product"), 404: NOT_FOUND},
    )
    async def delete_image(
        self,
        product_id: FromPath[UUID],
        image_id: FromPath[UUID],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> None:
        """Delete one picture; the next one becomes the cover."""
        await catalog.delete_image(current_user.id, product_id, image_id, state.settings.media_dir)

    @put(
        "/products/{product_id:uuid}/images/order",
        guards=[requires_role(Role.SELLER)],
        responses={403: problem_spec("Not your product"), 404: NOT_FOUND, 422: problem_spec("Not every picture")},
    )
    async def reorder_images(
        self,
        product_id: FromPath[UUID],
        data: JSONBody[ImageOrderIn],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
    ) -> list[ProductImageOut]:
        """Order the pictures (``image_ids``: every one, once); the first becomes the cover."""
        return [image_out(i) for i in await catalog.reorder_images(current_user.id, product_id, data.image_ids)]

    @post(
        "/products/{product_id:uuid}/image",
        guards=[requires_role(Role.SELLER)],
        status_code=200,
        request_max_body_size=MAX_IMAGE_BYTES + 64 * 1024,
        responses={
            403: problem_spec("Not your product"),
            404: NOT_FOUND,
            413: problem_spec("Image too large"),
            422: problem_spec("Not a PNG, JPEG or WebP image"),
        },
    )
    async def upload_image(
        self,
        product_id: FromPath[UUID],
        data: MultipartBody[ImageUpload],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> ProductOut:
        """Set the product's cover picture (multipart field ``image``: PNG, JPEG or WebP, at most 5 MiB); the
        pictures it had move one place down. ``POST .../images`` adds one at the end instead."""
        content = await data.image.read()
        await catalog.add_image(current_user.id, product_id, state.settings.media_dir, content, cover=True)
        return product_out(await catalog.view(product_id, current_user.id))


@dataclass
class ImageUpload:
    image: UploadFile


def _viewer(request: Request[Any, Any, Any]) -> UUID | None:
    return request.user.id if request.user is not None else None


class CartController(Controller):
    path = "/api/shop/cart"
    tags = ["shop"]
    guards = [requires_signed_in]

    @get("/")
    async def cart(
        self,
        carts: NamedDependency[CartService],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CartOut:
        return await _cart_out(carts, catalog, current_user, state.settings.shop.currency)

    @post("/items", status_code=200, responses={404: NOT_FOUND, 422: problem_spec("Not enough stock")})
    async def add(
        self,
        data: JSONBody[CartItemIn],
        carts: NamedDependency[CartService],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CartOut:
        """Add a product (or more of it) to the cart, remembering where the buyer found it."""
        source = data.source.as_dict() if data.source else None
        await carts.add(current_user.id, parse_uuid(data.product_id), data.quantity, source)
        return await _cart_out(carts, catalog, current_user, state.settings.shop.currency)

    @post("/items/{product_id:uuid}/remove", status_code=200)
    async def remove(
        self,
        product_id: FromPath[UUID],
        carts: NamedDependency[CartService],
        catalog: NamedDependency[CatalogService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> CartOut:
        await carts.remove(current_user.id, product_id)
        return await _cart_out(carts, catalog, current_user, state.settings.shop.currency)


async def _cart_out(carts: CartService, catalog: CatalogService, user: CurrentUser, currency: str) -> CartOut:
    lines = await carts.lines(user.id)
    views = {v.product.id: v for v in await catalog.views([line.product.id for line in lines])}
    total = sum((line.amount for line in lines), Money.zero(currency))
    return CartOut(
        [CartLineOut(product_out(views[line.product.id]), line.quantity, line.amount, line.source) for line in lines],
        total,
    )


CATALOG_CONTROLLERS = [CatalogController, CartController]
not_found_when_malformed(CATALOG_CONTROLLERS, product_id="product", image_id="image")
