"""Attribution touches, referral links, coupons, line receipts and the report rollups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import BigIntBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import JsonDocument, MinorUnits


class Touch(BigIntBase):
    """One attribution touch: a viewer joined a room, opened a product from a room, post or link, or added it
    to the cart. Written in batches; read by the attribution rule and the reports."""

    __tablename__ = "shop_touch"
    __table_args__ = (
        Index("ix_shop_touch_product_at", "product_id", "at"),
        Index("ix_shop_touch_creator_at", "creator_id", "at"),
        Index("ix_shop_touch_user_at", "user_id", "at"),
    )

    kind: Mapped[str] = mapped_column(String(16))  # view | click | add_to_cart
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    creator_id: Mapped[UUID | None] = mapped_column(default=None)
    product_id: Mapped[UUID | None] = mapped_column(default=None)
    room_id: Mapped[UUID | None] = mapped_column(default=None, index=True)
    post_id: Mapped[UUID | None] = mapped_column(default=None, index=True)
    link_code: Mapped[str | None] = mapped_column(String(32), default=None)
    user_id: Mapped[UUID | None] = mapped_column(default=None)
    visitor_id: Mapped[str | None] = mapped_column(String(64), default=None)


# Attribution: referral links, creator coupons, per-line receipts and the report rollups ---------------------------


class ReferralLink(UUIDv7Base):
    """A creator's short link (``/r/{code}``) to a product, a room, a post or their storefront."""

    __tablename__ = "shop_referral_link"

    code: Mapped[str] = mapped_column(String(16), unique=True)  # lower case: codes compare case-insensitively
    creator_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # product | room | post | storefront
    target_id: Mapped[UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Coupon(UUIDv7Base):
    """A creator's discount code; a checkout that uses it credits the creator (precedence 1 of the rule)."""

    __tablename__ = "shop_coupon"
    __table_args__ = (CheckConstraint("discount_bps > 0 AND discount_bps <= 5000", name="discount_range"),)

    code: Mapped[str] = mapped_column(String(40))  # as the creator typed it
    code_key: Mapped[str] = mapped_column(String(40), unique=True)  # case-folded: the code's identity
    creator_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    discount_bps: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    status: Mapped[str] = mapped_column(String(8), default="active", server_default="active")  # CouponStatus


class LineAttribution(BigIntBase):
    """Why an order line was credited to its creator (or to none): written once, at checkout, beside the line.

    Also holds the line's coupon discount, so the line's net amount is ``amount - discount_minor``.
    """

    __tablename__ = "shop_line_attribution"
    __table_args__ = (CheckConstraint("discount_minor >= 0", name="discount_not_negative"),)

    line_id: Mapped[UUID] = mapped_column(ForeignKey("shop_order_line.id", ondelete="CASCADE"), unique=True)
    order_id: Mapped[UUID] = mapped_column(ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    rule_version: Mapped[int]
    rule: Mapped[str] = mapped_column(String(16))  # coupon | live_room | last_click | none
    creator_id: Mapped[UUID | None] = mapped_column(default=None)
    room_id: Mapped[UUID | None] = mapped_column(default=None)  # where the winning touch happened, for reports
    post_id: Mapped[UUID | None] = mapped_column(default=None)
    window_seconds: Mapped[int]
    decided_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    coupon_id: Mapped[UUID | None] = mapped_column(ForeignKey("shop_coupon.id"), default=None, index=True)
    discount_minor: Mapped[MinorUnits] = mapped_column(default=0)
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JsonDocument, default=list)


class AttributionRollup(BigIntBase):
    """Report counters per dimension value, day, creator and seller, kept up to date incrementally.

    ``dim`` is creator | room | post | product | day; ``key`` the creator/room/post/product id (the nil UUID for
    ``day`` rows, whose key is the day). The nil UUID also stands for "no creator"/"no seller", so the unique
    constraint holds for every row (NULLs never conflict), and ``shop.rollups.ALL`` for "any": every fact is
    counted for its creator and for ALL, for its seller and for ALL, so each report reads exactly its own rows.
    """

    __tablename__ = "shop_attribution_rollup"
    __table_args__ = (
        UniqueConstraint("dim", "key", "day", "creator_id", "seller_id", name="uq_shop_attribution_rollup_cell"),
        # A report reads one dimension for one creator (or ALL) and one seller (or ALL) over a range of days.
        Index("ix_shop_attribution_rollup_report", "dim", "creator_id", "seller_id", "day"),
    )

    dim: Mapped[str] = mapped_column(String(8))
    key: Mapped[UUID]
    day: Mapped[date]
    creator_id: Mapped[UUID]
    seller_id: Mapped[UUID]
    views: Mapped[int] = mapped_column(default=0)
    clicks: Mapped[int] = mapped_column(default=0)
    add_to_carts: Mapped[int] = mapped_column(default=0)
    orders: Mapped[int] = mapped_column(default=0)
    units: Mapped[int] = mapped_column(default=0)
    gmv_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunds_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    commission_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class AttributionViewer(BigIntBase):
    """Who viewed what on which day, once each: unique viewers over any range are a count of distinct rows."""

    __tablename__ = "shop_attribution_viewer"
    __table_args__ = (
        UniqueConstraint(
            "dim", "key", "day", "creator_id", "seller_id", "viewer", name="uq_shop_attribution_viewer_cell"
        ),
        Index("ix_shop_attribution_viewer_report", "dim", "creator_id", "seller_id", "day"),
    )

    dim: Mapped[str] = mapped_column(String(8))
    key: Mapped[UUID]
    day: Mapped[date]
    creator_id: Mapped[UUID]
    seller_id: Mapped[UUID]
    viewer: Mapped[str] = mapped_column(String(64))  # "u:" + user id or "v:" + anonymous visitor id


class RollupCursor(UUIDv7Base):
    """How far the rollups have read a source table (touches, journal entries): the last id folded in."""

    __tablename__ = "shop_rollup_cursor"

    source: Mapped[str] = mapped_column(String(16), unique=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
