"""JSON handlers of the catalog and the cart (/api/shop): parse, call a service, map the result."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, get, patch, post
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
    ProductIn,
    ProductOut,
    ProductPage,
    ProductPatch,
)
from shop.views import product_out
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
        return product_out(await catalog.view(product.id))

    @get("/products")
    async def list_products(
        self,
        catalog: NamedDependency[CatalogService],
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        seller_id: FromQuery[UUID | None] = None,
        sort: FromQuery[ProductSort] = "newest",
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> ProductPage:
        """Search the catalog; ``sort`` is newest, price_asc or price_desc; pages follow ``next_cursor``."""
        views, next_cursor = await catalog.search(
            q=q, category=category, seller_id=seller_id, sort=sort, limit=limit, cursor=cursor
        )
        return ProductPage([product_out(v) for v in views], next_cursor)

    @get("/products/{product_id:uuid}", responses={404: NOT_FOUND})
    async def get_product(self, product_id: FromPath[UUID], catalog: NamedDependency[CatalogService]) -> ProductOut:
        return product_out(await catalog.view(product_id))

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
        return product_out(await catalog.view(product.id))

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
        """Set the product's picture (multipart field ``image``: PNG, JPEG or WebP, at most 5 MiB)."""
        content = await data.image.read()
        product = await catalog.set_image(current_user.id, product_id, state.settings.media_dir, content)
        return product_out(await catalog.view(product.id))


@dataclass
class ImageUpload:
    image: UploadFile


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
not_found_when_malformed(CATALOG_CONTROLLERS, product_id="product")
