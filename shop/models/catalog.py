"""Categories with their commission rates, products with their stock, and limited-time deals."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import JsonDocument, MinorUnits
from kernel.money import Money


class Category(UUIDv7Base):
    __tablename__ = "shop_category"

    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    commission_bps: Mapped[int] = mapped_column(
        CheckConstraint("commission_bps BETWEEN 0 AND 2000", name="commission_range")
    )


class Product(UUIDv7AuditBase):
    __tablename__ = "shop_product"
    __table_args__ = (Index("ix_shop_product_category_price", "category_slug", "price_minor"),)

    seller_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    category_slug: Mapped[str] = mapped_column(ForeignKey("shop_category.slug"))
    price_minor: Mapped[MinorUnits] = mapped_column(CheckConstraint("price_minor > 0", name="price_positive"))
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(CheckConstraint("stock >= 0", name="stock_not_negative"))
    affiliate_rate_bps: Mapped[int] = mapped_column(
        CheckConstraint("affiliate_rate_bps BETWEEN 0 AND 8000", name="affiliate_range")
    )
    # Set while the seller has taken the product off sale: buyers no longer find it; orders already placed go on.
    archived_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)


class ProductImage(UUIDv7Base):
    """One of a product's pictures; the lowest ``position`` is the cover. Paths are inside the media folder."""

    __tablename__ = "shop_product_image"

    product_id: Mapped[UUID] = mapped_column(ForeignKey("shop_product.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    path: Mapped[str] = mapped_column(String(200))
    thumbnail_path: Mapped[str] = mapped_column(String(200))


class Deal(UUIDv7Base):
    """A limited-time price for a limited quantity (a live deal); ``remaining`` only ever goes down by a
    conditional update, so a deal is never oversold."""

    __tablename__ = "shop_deal"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= quantity", name="remaining_within_quantity"),
        CheckConstraint("per_buyer_limit > 0", name="per_buyer_limit_positive"),
    )

    product_id: Mapped[UUID] = mapped_column(ForeignKey("shop_product.id"), index=True)
    price_minor: Mapped[MinorUnits] = mapped_column(CheckConstraint("price_minor > 0", name="deal_price_positive"))
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(CheckConstraint("quantity > 0", name="deal_quantity_positive"))
    remaining: Mapped[int]
    per_buyer_limit: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    # Where the deal may be bought from, e.g. {"room_id": ...}; checkout carries it as the line's source.
    context: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)
    created_by: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)
