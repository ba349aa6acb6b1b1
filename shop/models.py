"""shop_* tables: catalog, carts, orders and their audit trail, the ledger, idempotency keys, disputes, payouts.

Money is always two columns, an integer amount in minor units and an ISO 4217 currency. Users are referenced by
table name (``auth_user.id``); no ORM relationship crosses a domain.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from advanced_alchemy.base import BigIntBase, UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import JsonDocument
from kernel.money import Money

# Amounts in minor units are 64-bit: the API takes unit prices up to 10^10, and baskets and sums pass 2^31.
MinorUnits = Annotated[int, mapped_column(BigInteger)]


class OrderStatus(StrEnum):
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DISPUTED = "disputed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class OrderAction(StrEnum):
    """What an order's audit row (``OrderEvent.action``) records: each transition names its cause."""

    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERY_CONFIRMED = "delivery_confirmed"
    AUTO_CONFIRMED = "auto_confirmed"  # the sweeper, after the auto-confirm window
    CANCELLED_NOT_SHIPPED = "cancelled_not_shipped"  # the sweeper, after the ship-by deadline
    CANCELLED_BY_SELLER = "cancelled_by_seller"
    REFUNDED = "refunded"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_REFUNDED = "dispute_refunded"
    DISPUTE_ESCALATED = "dispute_escalated"
    DISPUTE_REJECTED = "dispute_rejected"


class DisputeReason(StrEnum):
    NOT_RECEIVED = "not_received"
    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"


class DisputeStatus(StrEnum):
    OPEN = "open"  # waiting for the seller
    ESCALATED = "escalated"  # rejected by the seller or ignored past the deadline: the admin queue
    REFUNDED = "refunded"
    REJECTED = "rejected"


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
    image_path: Mapped[str | None] = mapped_column(String(200), default=None)

    @property
    def price(self) -> Money:
        return Money(self.price_minor, self.currency)


class CartItem(UUIDv7AuditBase):
    __tablename__ = "shop_cart_item"
    __table_args__ = (UniqueConstraint("buyer_id", "product_id"),)

    buyer_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[UUID] = mapped_column(ForeignKey("shop_product.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(CheckConstraint("quantity > 0", name="quantity_positive"))
    source: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument, default=None)


class IdempotencyKey(UUIDv7Base):
    """The first response to a keyed request; claimed (inserted) in the same transaction as the work it guards."""

    __tablename__ = "shop_idempotency_key"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(80))  # the operation and the caller
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(default=None)
    response: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class ChargeIntentStatus(StrEnum):
    OPEN = "open"  # recorded before charging; an attempt may hold a provider charge
    COMPLETED = "completed"  # its orders committed with the charge
    VOIDED = "voided"  # abandoned: whatever the provider charged under its reference was voided


class ChargeIntent(UUIDv7Base):
    """A checkout's intent to charge, committed before the provider is asked, so no charge can go unaccounted.

    Its id is the checkout's id. The provider gets ``reference`` as its own idempotency key: a retry after a crash
    gets the same charge back, never a second one. A voided intent that is tried again starts a new attempt, and so
    a new reference.
    """

    __tablename__ = "shop_charge_intent"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    scope: Mapped[str] = mapped_column(String(80))  # as the Idempotency-Key's: the operation and the buyer
    key: Mapped[str] = mapped_column(String(200))
    buyer_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    attempt: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(16))
    charge_id: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    attempted_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)

    @property
    def reference(self) -> str:
        return f"{self.id}.{self.attempt}"


class Order(UUIDv7Base):
    __tablename__ = "shop_order"
    __table_args__ = (
        CheckConstraint("refunded_minor >= 0 AND refunded_minor <= total_minor", name="refund_within_total"),
    )

    checkout_id: Mapped[UUID] = mapped_column(index=True)
    buyer_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    seller_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[MinorUnits]
    refunded_minor: Mapped[MinorUnits] = mapped_column(default=0)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JsonDocument)
    charge_id: Mapped[str] = mapped_column(String(80))
    carrier: Mapped[str | None] = mapped_column(String(60), default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    # Deadlines the sweeper acts on; each is cleared once it no longer applies.
    ship_by: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), index=True)
    auto_confirm_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None, index=True)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    released_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    dispute_until: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    status_before_dispute: Mapped[str | None] = mapped_column(String(24), default=None)

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)

    @property
    def refundable(self) -> Money:
        return Money(self.total_minor - self.refunded_minor, self.currency)


class OrderLine(UUIDv7Base):
    __tablename__ = "shop_order_line"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[UUID] = mapped_column(ForeignKey("shop_product.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    unit_price_minor: Mapped[MinorUnits]
    quantity: Mapped[int] = mapped_column(CheckConstraint("quantity > 0", name="quantity_positive"))
    category_slug: Mapped[str] = mapped_column(String(40))
    # Rates are frozen at checkout: later changes to the category or product never change this sale's split.
    commission_bps: Mapped[int]
    creator_id: Mapped[UUID | None] = mapped_column(ForeignKey("auth_user.id"), default=None, index=True)
    affiliate_rate_bps: Mapped[int] = mapped_column(default=0)
    source: Mapped[dict[str, Any] | None] = mapped_column(JsonDocument, default=None)
    deal_id: Mapped[UUID | None] = mapped_column(ForeignKey("shop_deal.id"), default=None, index=True)

    @property
    def amount_minor(self) -> int:
        return self.unit_price_minor * self.quantity


class OrderEvent(UUIDv7Base):
    """One row per transition: the audit trail buyers, sellers and admins see on the order."""

    __tablename__ = "shop_order_event"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("shop_order.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[UUID | None] = mapped_column(ForeignKey("auth_user.id"), default=None)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonDocument, default=dict)


class JournalEntry(BigIntBase):
    """A balanced money movement; its postings sum to zero. Never updated or deleted."""

    __tablename__ = "shop_journal_entry"

    kind: Mapped[str] = mapped_column(String(30))
    order_id: Mapped[UUID | None] = mapped_column(ForeignKey("shop_order.id"), default=None, index=True)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    memo: Mapped[str] = mapped_column(String(200), default="")


class Posting(BigIntBase):
    """One side of a journal entry: a signed amount on one account (debits positive, credits negative)."""

    __tablename__ = "shop_posting"
    __table_args__ = (Index("ix_shop_posting_account_available", "account", "available_at"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("shop_journal_entry.id"), index=True)
    account: Mapped[str] = mapped_column(String(80))
    amount_minor: Mapped[MinorUnits]
    currency: Mapped[str] = mapped_column(String(3))
    # For payables: when this amount may be paid out (the end of the order's dispute window).
    available_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Dispute(UUIDv7Base):
    __tablename__ = "shop_dispute"

    order_id: Mapped[UUID] = mapped_column(ForeignKey("shop_order.id"), index=True)
    buyer_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))
    seller_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    reason: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(Text, default="")
    requested_minor: Mapped[MinorUnits]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    respond_by: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    refunded_minor: Mapped[MinorUnits] = mapped_column(default=0)
    resolution_note: Mapped[str] = mapped_column(Text, default="")


class Payout(UUIDv7Base):
    __tablename__ = "shop_payout"

    party_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    account: Mapped[str] = mapped_column(String(80))
    amount_minor: Mapped[MinorUnits] = mapped_column(CheckConstraint("amount_minor > 0", name="amount_positive"))
    currency: Mapped[str] = mapped_column(String(3))
    provider_ref: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


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
