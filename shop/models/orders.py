"""Carts, orders with their lines and audit trail, disputes, idempotency keys and charge intents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import JsonDocument, MinorUnits
from kernel.money import Money


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
    DISPUTE_OFFERED = "dispute_offered"  # the seller offers less than asked; the buyer accepts or escalates


class DisputeReason(StrEnum):
    NOT_RECEIVED = "not_received"
    DAMAGED = "damaged"
    NOT_AS_DESCRIBED = "not_as_described"


class DisputeStatus(StrEnum):
    OPEN = "open"  # waiting for the seller
    OFFERED = "offered"  # the seller offered a partial refund: waiting for the buyer to accept or escalate
    ESCALATED = "escalated"  # rejected by the seller, declined by the buyer or ignored past the deadline: admins
    REFUNDED = "refunded"
    REJECTED = "rejected"


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
    # The seller's partial refund offer while the dispute is ``offered``; kept afterwards as a record.
    offered_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
