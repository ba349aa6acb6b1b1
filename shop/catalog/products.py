"""The catalog: categories with their commission, products, stock reserved by conditional updates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from uuid import UUID

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.models import User
from kernel.db import like_pattern
from kernel.errors import Conflict, Forbidden, NotFound, RuleBroken
from kernel.pagination import decode_cursor, encode_cursor
from shop.catalog.images import store_image
from shop.models import Category, Product
from shop.schemas import CategoryIn, ProductIn, ProductPatch

ProductSort = Literal["newest", "price_asc", "price_desc"]


def parse_uuid(value: str, what: str = "product") -> UUID:
    """An id from a client; one that cannot exist is simply not found."""
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(f"{what}_not_found", f"There is no {what} {value!r}.") from None


@dataclass(frozen=True)
class ProductView:
    product: Product
    seller_name: str


class CatalogService:
    def __init__(self, session: AsyncSession, currency: str) -> None:
        self.session = session
        self.currency = currency

    # Categories -----------------------------------------------------------------------------------------------
    async def categories(self) -> list[Category]:
        return list(await self.session.scalars(select(Category).order_by(Category.name)))

    async def set_category(self, data: CategoryIn) -> Category:
        """Create a category or change its name and commission rate."""
        category = await self.session.scalar(select(Category).where(Category.slug == data.slug))
        if category is None:
            category = Category(slug=data.slug, name=data.name, commission_bps=data.commission_bps)
            self.session.add(category)
        else:
            category.name, category.commission_bps = data.name, data.commission_bps
        await self.session.flush()
        return category

    async def _category(self, slug: str) -> Category:
        category = await self.session.scalar(select(Category).where(Category.slug == slug))
        if category is None:
            raise RuleBroken(
                "unknown_category",
                f"There is no category {slug!r}; GET /api/shop/categories lists them.",
                errors=[{"field": "category", "message": "unknown category"}],
            )
        return category

    # Products -------------------------------------------------------------------------------------------------
    def _check_currency(self, currency: str) -> None:
        if currency != self.currency:
            raise RuleBroken(
                "unsupported_currency",
                f"Prices are in {self.currency} on this platform.",
                errors=[{"field": "price.currency", "message": f"use {self.currency}"}],
            )

    async def create(self, seller_id: UUID, data: ProductIn) -> Product:
        self._check_currency(data.price.currency)
        await self._category(data.category)
        product = Product(
            seller_id=seller_id,
            title=data.title.strip(),
            description=data.description,
            category_slug=data.category,
            price_minor=data.price.amount_minor,
            currency=data.price.currency,
            stock=data.stock,
            affiliate_rate_bps=data.affiliate_rate_bps,
        )
        self.session.add(product)
        await self.session.flush()
        return product

    async def update(self, seller_id: UUID, product_id: UUID, data: ProductPatch) -> Product:
        product = await self.get(product_id)
        if product.seller_id != seller_id:
            raise Forbidden("not_your_product", "Only the product's seller can change it.")
        if data.price is not None:
            self._check_currency(data.price.currency)
            product.price_minor = data.price.amount_minor
        if data.category is not None:
            product.category_slug = (await self._category(data.category)).slug
        for name in ("title", "description", "stock", "affiliate_rate_bps"):
            if (value := getattr(data, name)) is not None:
                setattr(product, name, value)
        await self.session.flush()
        return product

    async def set_image(self, seller_id: UUID, product_id: UUID, media_dir: Path, data: bytes) -> Product:
        product = await self.get(product_id)
        if product.seller_id != seller_id:
            raise Forbidden("not_your_product", "Only the product's seller can change it.")
        product.image_path = store_image(media_dir, product.id, data)
        await self.session.flush()
        return product

    async def get(self, product_id: UUID) -> Product:
        product = await self.session.get(Product, product_id)
        if product is None:
            raise NotFound("product_not_found", f"There is no product {product_id}.")
        return product

    async def view(self, product_id: UUID) -> ProductView:
        row = (await self.session.execute(self._with_seller().where(Product.id == product_id))).first()
        if row is None:
            raise NotFound("product_not_found", f"There is no product {product_id}.")
        return ProductView(*row)

    async def views(self, product_ids: list[UUID]) -> list[ProductView]:
        rows = await self.session.execute(self._with_seller().where(Product.id.in_(product_ids)))
        return [ProductView(*row) for row in rows]

    def _with_seller(self) -> Select[tuple[Product, str]]:
        return select(Product, User.display_name).join(User, User.id == Product.seller_id)

    async def search(
        self,
        *,
        q: str | None = None,
        category: str | None = None,
        seller_id: UUID | None = None,
        sort: ProductSort = "newest",
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[ProductView], str | None]:
        """A page of products and the cursor of the next page (None on the last)."""
        query = self._with_seller()
        if q:
            pattern = like_pattern(q.strip().lower())
            query = query.where(
                or_(Product.title.ilike(pattern, escape="\\"), Product.description.ilike(pattern, escape="\\"))
            )
        if category:
            query = query.where(Product.category_slug == category)
        if seller_id:
            query = query.where(Product.seller_id == seller_id)
        key, descending = {
            "newest": (Product.created_at, True),
            "price_asc": (Product.price_minor, False),
            "price_desc": (Product.price_minor, True),
        }[sort]
        if cursor:
            last_key, last_id = decode_cursor(
                cursor, datetime.fromisoformat if key is Product.created_at else int, UUID
            )
            after = (key < last_key) if descending else (key > last_key)
            tie = Product.id < last_id if descending else Product.id > last_id
            query = query.where(or_(after, and_(key == last_key, tie)))
        order = (key.desc(), Product.id.desc()) if descending else (key.asc(), Product.id.asc())
        rows = [ProductView(*row) for row in await self.session.execute(query.order_by(*order).limit(limit + 1))]
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = None
        if more:
            last = rows[-1].product
            value = last.created_at.isoformat() if key is Product.created_at else last.price_minor
            next_cursor = encode_cursor(value, str(last.id))
        return rows, next_cursor

    # Stock ----------------------------------------------------------------------------------------------------
    async def reserve(self, product_id: UUID, quantity: int) -> int:
        """Take ``quantity`` from stock in one conditional UPDATE; returns what is left. No read-modify-write."""
        left = await self.session.scalar(
            update(Product)
            .where(Product.id == product_id, Product.stock >= quantity)
            .values(stock=Product.stock - quantity)
            .returning(Product.stock)
        )
        if left is None:
            raise Conflict(
                "out_of_stock",
                f"Not enough stock for product {product_id}; nothing was reserved.",
                product_id=str(product_id),
            )
        return left

    async def restock(self, product_id: UUID, quantity: int) -> int:
        return await self.session.scalar(
            update(Product)
            .where(Product.id == product_id)
            .values(stock=Product.stock + quantity)
            .returning(Product.stock)
        )
