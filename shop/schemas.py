"""JSON shapes of the shop API: inputs reject unknown fields, money is never a float."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import Meta, Struct

from kernel.money import MINOR_UNITS, AmountMinor, CurrencyCode, Money
from shop.models import DisputeReason

Title = Annotated[str, Meta(min_length=1, max_length=120)]
Description = Annotated[str, Meta(max_length=5000)]
Slug = Annotated[str, Meta(pattern=r"^[a-z0-9-]{2,40}$")]
Quantity = Annotated[int, Meta(ge=1, le=1000)]
Stock = Annotated[int, Meta(ge=0, le=1_000_000)]
AffiliateBps = Annotated[int, Meta(ge=0, le=8000)]
CommissionBps = Annotated[int, Meta(ge=0, le=2000)]
Id = Annotated[str, Meta(min_length=1, max_length=64)]


class MoneyIn(Struct, forbid_unknown_fields=True, frozen=True):
    amount_minor: AmountMinor
    currency: CurrencyCode

    def __post_init__(self) -> None:
        # Refused while decoding (400 naming the field), not later as a ValueError from Money (a 500).
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unknown currency {self.currency!r}")

    def to_money(self) -> Money:
        return Money(self.amount_minor, self.currency)


class PriceIn(MoneyIn, frozen=True):
    amount_minor: Annotated[int, Meta(ge=1, le=10**10)]


class CategoryOut(Struct):
    slug: str
    name: str
    commission_bps: int


class CategoryIn(Struct, forbid_unknown_fields=True):
    slug: Slug
    name: Annotated[str, Meta(min_length=1, max_length=80)]
    commission_bps: CommissionBps


class CategoryPatch(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=80)] | None = None
    commission_bps: CommissionBps | None = None


class ProductIn(Struct, forbid_unknown_fields=True):
    title: Title
    category: Slug
    price: PriceIn
    stock: Stock
    description: Description = ""
    affiliate_rate_bps: AffiliateBps = 0


class ProductPatch(Struct, forbid_unknown_fields=True):
    title: Title | None = None
    description: Description | None = None
    category: Slug | None = None
    price: PriceIn | None = None
    stock: Stock | None = None
    affiliate_rate_bps: AffiliateBps | None = None


class SellerOut(Struct):
    id: UUID
    display_name: str


class ProductImageOut(Struct):
    id: UUID
    url: str
    thumbnail_url: str


class ProductOut(Struct):
    id: UUID
    title: str
    description: str
    category: str
    price: Money
    stock: int
    affiliate_rate_bps: int
    seller: SellerOut
    image_url: str | None  # the cover (the first of ``images``), as uploaded
    thumbnail_url: str | None = None  # the cover, resized for cards and lists
    images: list[ProductImageOut] = []
    archived: bool = False  # only its seller ever sees an archived product


class ImageOrderIn(Struct, forbid_unknown_fields=True):
    """Every picture of the product, each once, in the new order; the first becomes the cover."""

    image_ids: Annotated[list[UUID], Meta(min_length=1, max_length=20)]


class ProductPage(Struct):
    items: list[ProductOut]
    next_cursor: str | None


class ShippingAddress(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    line1: Annotated[str, Meta(min_length=1, max_length=200)]
    city: Annotated[str, Meta(min_length=1, max_length=100)]
    postal_code: Annotated[str, Meta(min_length=1, max_length=20)]
    country: Annotated[str, Meta(pattern=r"^[A-Z]{2}$")]


class PaymentIn(Struct, forbid_unknown_fields=True):
    method: Literal["sandbox"]
    token: Annotated[str, Meta(min_length=1, max_length=100)]


class SourceIn(Struct, forbid_unknown_fields=True):
    """Where the buyer came from; exactly one field is set."""

    room_id: Id | None = None
    post_id: Id | None = None
    ref: Annotated[str, Meta(min_length=1, max_length=64)] | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("room_id", self.room_id), ("post_id", self.post_id), ("ref", self.ref)) if v}


class CheckoutItemIn(Struct, forbid_unknown_fields=True):
    product_id: Id
    quantity: Quantity
    deal_id: Id | None = None
    source: SourceIn | None = None  # where this line was found; the checkout's ``source`` covers lines without one


class CheckoutIn(Struct, forbid_unknown_fields=True):
    items: Annotated[list[CheckoutItemIn], Meta(min_length=1, max_length=50)]
    shipping_address: ShippingAddress
    payment: PaymentIn
    source: SourceIn | None = None
    coupon_code: Annotated[str, Meta(min_length=1, max_length=40)] | None = None


class OrderLineOut(Struct):
    product_id: UUID
    title: str
    quantity: int
    unit_price: Money
    amount: Money
    creator_id: UUID | None
    affiliate_rate_bps: int
    source: dict[str, Any] | None


class OrderEventOut(Struct):
    action: str
    at: datetime
    actor_id: UUID | None
    detail: dict[str, Any]


class OrderOut(Struct):
    id: UUID
    checkout_id: UUID
    status: str
    items: list[OrderLineOut]
    total: Money
    refunded: Money
    seller: SellerOut
    buyer: SellerOut
    shipping_address: dict[str, Any]
    carrier: str | None
    tracking_number: str | None
    created_at: datetime
    ship_by: datetime | None
    auto_confirm_at: datetime | None
    dispute_until: datetime | None
    events: list[OrderEventOut]


class OrderPage(Struct):
    items: list[OrderOut]
    next_cursor: str | None


class CheckoutOut(Struct):
    checkout_id: UUID
    orders: list[OrderOut]


class ShipIn(Struct, forbid_unknown_fields=True):
    carrier: Annotated[str, Meta(min_length=2, max_length=60)]
    tracking_number: Annotated[str, Meta(pattern=r"^[A-Za-z0-9-]{6,40}$")]


class DisputeIn(Struct, forbid_unknown_fields=True):
    reason: DisputeReason
    requested_refund: MoneyIn
    detail: Annotated[str, Meta(max_length=2000)] = ""


class ResolveIn(Struct, forbid_unknown_fields=True):
    outcome: Literal["refund", "reject"]
    amount: MoneyIn | None = None
    note: Annotated[str, Meta(max_length=2000)] = ""


class DisputeOut(Struct):
    id: UUID
    order_id: UUID
    status: str
    reason: str
    detail: str
    requested_refund: Money
    refunded: Money
    opened_at: datetime
    respond_by: datetime | None
    resolved_at: datetime | None
    offered_refund: Money | None = None  # the seller's partial refund offer, once made


class PhotoOut(Struct):
    id: UUID
    content_type: str
    size: int
    url: str  # served only to the dispute's buyer, seller and admins


class DisputeMessageOut(Struct):
    id: UUID
    author: SellerOut
    party: str  # "buyer", "seller" or "admin"
    body: str
    at: datetime
    photos: list[PhotoOut]


class DisputeThreadOut(Struct):
    items: list[DisputeMessageOut]


class BalancesOut(Struct):
    pending: Money
    available: Money
    paid_out: Money
    in_escrow: Money


class AccountBalanceOut(Struct):
    account: str
    balance: Money


class TrialBalanceOut(Struct):
    accounts: list[AccountBalanceOut]
    total: Money  # in the settlement currency
    totals: list[Money] = []  # one per currency; each is zero


class LedgerAccountOut(Struct):
    account: str
    kind: str
    owner: str | None
    balance: Money


class LedgerAccountsOut(Struct):
    items: list[LedgerAccountOut]
    next_cursor: str | None


class RunByOut(Struct):
    id: UUID
    display_name: str


class PayoutRunSummaryOut(Struct):
    id: UUID
    at: datetime
    run_by: RunByOut | None
    count: int
    totals: list[Money]


class PayoutRunsOut(Struct):
    items: list[PayoutRunSummaryOut]
    next_cursor: str | None


class PayoutOut(Struct):
    party_id: str
    account: str
    amount: Money
    provider_ref: str


class PayoutRunOut(Struct):
    payouts: list[PayoutOut]
    total: Money


class CartItemIn(Struct, forbid_unknown_fields=True):
    product_id: Id
    quantity: Quantity = 1
    source: SourceIn | None = None


class CartLineOut(Struct):
    product: ProductOut
    quantity: int
    amount: Money
    source: dict[str, Any] | None


class CartOut(Struct):
    items: list[CartLineOut]
    total: Money


class SalesRowOut(Struct):
    key: str  # the product id, or the source: room, post, creator, direct
    label: str
    orders: int
    units: int
    revenue: Money  # what buyers paid, after coupons and refunds
    net: Money  # the seller's share, after platform and creator commission


class SalesOut(Struct):
    group_by: str
    since: date  # the first day included (the ``from`` parameter)
    until: date  # the last day included (the ``to`` parameter)
    rows: list[SalesRowOut]
    total: SalesRowOut
