"""The catalog: categories with their commission, products, stock reserved by conditional updates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from anyio import to_thread
from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.models import User
from kernel.db import like_pattern
from kernel.errors import Conflict, Forbidden, NotFound, RuleBroken
from kernel.pagination import decode_cursor, encode_cursor
from shop.catalog.images import MAX_IMAGES_PER_PRODUCT, remove_files, store_image
from shop.models import Category, Product, ProductImage
from shop.schemas import CategoryIn, CategoryPatch, ProductIn, ProductPatch

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
    images: list[ProductImage] = field(default_factory=list)  # in order; the first is the cover


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

    async def add_category(self, data: CategoryIn) -> Category:
        """Create a category; its slug must be new."""
        if await self.session.scalar(select(Category.id).where(Category.slug == data.slug)):
            raise Conflict(
                "category_exists",
                f"There is already a category {data.slug!r}; change it instead.",
                errors=[{"field": "slug", "message": "already taken"}],
            )
        return await self.set_category(data)

    async def update_category(self, slug: str, patch: CategoryPatch) -> Category:
        """Change a category's name and/or commission rate."""
        category = await self.session.scalar(select(Category).where(Category.slug == slug))
        if category is None:
            raise NotFound("category_not_found", f"There is no category {slug!r}.")
        if patch.name is not None:
            category.name = patch.name
        if patch.commission_bps is not None:
            category.commission_bps = patch.commission_bps
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

    async def _own(self, seller_id: UUID, product_id: UUID) -> Product:
        product = await self.get(product_id)
        if product.seller_id != seller_id:
            raise Forbidden("not_your_product", "Only the product's seller can change it.")
        return product

    async def update(self, seller_id: UUID, product_id: UUID, data: ProductPatch) -> Product:
        product = await self._own(seller_id, product_id)
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

    async def archive(self, seller_id: UUID, product_id: UUID, now: datetime) -> Product:
        """Take the product off sale: buyers stop finding it anywhere; orders already placed are not touched."""
        product = await self._own(seller_id, product_id)
        if product.archived_at is None:
            product.archived_at = now
            await self.session.flush()
        return product

    async def unarchive(self, seller_id: UUID, product_id: UUID) -> Product:
        product = await self._own(seller_id, product_id)
        product.archived_at = None
        await self.session.flush()
        return product

    # Pictures -------------------------------------------------------------------------------------------------
    async def images(self, product_id: UUID) -> list[ProductImage]:
        return (await self._images_of([product_id]))[product_id]

    async def _images_of(self, product_ids: list[UUID]) -> dict[UUID, list[ProductImage]]:
        found: dict[UUID, list[ProductImage]] = defaultdict(list)
        if product_ids:
            for image in await self.session.scalars(
                select(ProductImage)
                .where(ProductImage.product_id.in_(product_ids))
                .order_by(ProductImage.position, ProductImage.id)
            ):
                found[image.product_id].append(image)
        return found

    async def add_image(
        self, seller_id: UUID, product_id: UUID, media_dir: Path, data: bytes, cover: bool = False
    ) -> ProductImage:
        """Add a picture at the end (or as the ``cover``); checked, resized and stored before the row is written."""
        product = await self._own(seller_id, product_id)
        # Lock the product row so two uploads at once cannot both pass the limit.
        await self.session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
        current = await self.images(product.id)
        if len(current) >= MAX_IMAGES_PER_PRODUCT:
            raise RuleBroken(
                "too_many_images",
                f"A product has at most {MAX_IMAGES_PER_PRODUCT} pictures; delete one first.",
                errors=[{"field": "image", "message": f"at most {MAX_IMAGES_PER_PRODUCT} pictures"}],
            )
        stored = await to_thread.run_sync(store_image, media_dir, product.id, data)
        if cover:
            for image in current:
                image.position += 1
        position = 0 if cover else (current[-1].position + 1 if current else 0)
        image = ProductImage(
            product_id=product.id, position=position, path=stored.path, thumbnail_path=stored.thumbnail_path
        )
        self.session.add(image)
        await self.session.flush()
        return image

    async def delete_image(self, seller_id: UUID, product_id: UUID, image_id: UUID, media_dir: Path) -> None:
        product = await self._own(seller_id, product_id)
        current = await self.images(product.id)
        image = next((i for i in current if i.id == image_id), None)
        if image is None:
            raise NotFound("image_not_found", f"The product has no picture {image_id}.")
        await self.session.delete(image)
        await self.session.flush()
        # The same bytes uploaded twice share their files: keep them while another picture uses them.
        if not any(other.path == image.path for other in current if other is not image):
            remove_files(media_dir, image.path, image.thumbnail_path)

    async def reorder_images(self, seller_id: UUID, product_id: UUID, image_ids: list[UUID]) -> list[ProductImage]:
        """Put the pictures in the order given, which must name each of them once; the first becomes the cover."""
        product = await self._own(seller_id, product_id)
        current = {image.id: image for image in await self.images(product.id)}
        if sorted(image_ids) != sorted(current):
            raise RuleBroken(
                "image_order_mismatch",
                "Name every picture of the product exactly once.",
                errors=[{"field": "image_ids", "message": "each of the product's pictures, once"}],
            )
        for position, image_id in enumerate(image_ids):
            current[image_id].position = position
        await self.session.flush()
        return [current[image_id] for image_id in image_ids]

    async def get(self, product_id: UUID) -> Product:
        product = await self.session.get(Product, product_id)
        if product is None:
            raise NotFound("product_not_found", f"There is no product {product_id}.")
        return product

    async def on_sale(self, product_id: UUID) -> Product:
        """A product buyers may see and buy; an archived one is not found, as if it were gone."""
        product = await self.get(product_id)
        if product.archived_at is not None:
            raise NotFound("product_not_found", f"There is no product {product_id}.")
        return product

    async def view(self, product_id: UUID, viewer_id: UUID | None = None) -> ProductView:
        """The product with its seller and pictures; archived, only its seller (``viewer_id``) finds it."""
        row = (await self.session.execute(self._with_seller().where(Product.id == product_id))).first()
        if row is None or (row[0].archived_at is not None and row[0].seller_id != viewer_id):
            raise NotFound("product_not_found", f"There is no product {product_id}.")
        return (await self._with_images([row]))[0]

    async def views(self, product_ids: list[UUID], include_archived: bool = False) -> list[ProductView]:
        query = self._with_seller().where(Product.id.in_(product_ids))
        if not include_archived:
            query = query.where(Product.archived_at.is_(None))
        return await self._with_images(list(await self.session.execute(query)))

    async def _with_images(self, rows: list[Any]) -> list[ProductView]:
        images = await self._images_of([product.id for product, _ in rows])
        return [ProductView(product, name, images.get(product.id, [])) for product, name in rows]

    def _with_seller(self) -> Select[tuple[Product, str]]:
        return select(Product, User.display_name).join(User, User.id == Product.seller_id)

    async def search(
        self,
        *,
        q: str | None = None,
        category: str | None = None,
        seller_id: UUID | None = None,
        include_archived: bool = False,
        sort: ProductSort = "newest",
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[ProductView], str | None]:
        """A page of products and the cursor of the next page (None on the last); archived ones only on request."""
        query = self._with_seller()
        if not include_archived:
            query = query.where(Product.archived_at.is_(None))
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
        found = list(await self.session.execute(query.order_by(*order).limit(limit + 1)))
        more = len(found) > limit
        rows = await self._with_images(found[:limit])
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
