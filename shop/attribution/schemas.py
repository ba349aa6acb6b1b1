"""msgspec Structs of the attribution and reports JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from kernel.money import Money
from shop.models import Coupon
from shop.schemas import Id


class LinkTargetIn(Struct, forbid_unknown_fields=True):
    """Exactly one of: a product, a room, a post, or the creator's whole storefront."""

    product_id: Id | None = None
    room_id: Id | None = None
    post_id: Id | None = None
    storefront: bool | None = None


class LinkIn(Struct, forbid_unknown_fields=True):
    target: LinkTargetIn


class LinkOut(Struct):
    code: str
    url: str  # /r/{code}
    target: str  # the page the link leads to


class LinkFiguresOut(Struct):
    """One of the caller's links and what it brought."""

    code: str
    url: str  # /r/{code}
    target: str  # the page the link leads to
    target_kind: str  # product | room | post | storefront
    target_id: UUID | None  # None for the storefront
    created_at: datetime
    clicks: int
    orders: int  # orders with a line the link won (the buyer's last click came through it)
    sales: Money  # those lines' amounts after coupon discounts


class LinkPage(Struct):
    items: list[LinkFiguresOut]
    next_cursor: str | None


class CouponIn(Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=40)]
    discount_bps: Annotated[int, Meta(gt=0, le=5000)]


class CouponOut(Struct):
    code: str
    discount_bps: int
    creator_id: UUID
    id: UUID
    status: str  # active | paused (a checkout naming a paused coupon is refused)

    @classmethod
    def of(cls, coupon: Coupon) -> CouponOut:
        return cls(coupon.code, coupon.discount_bps, coupon.creator_id, coupon.id, coupon.status)


class CouponFiguresOut(Struct):
    """One of the caller's coupons and its use."""

    id: UUID
    code: str
    discount_bps: int
    status: str  # active | paused
    created_at: datetime
    times_used: int  # checkouts that used it
    sales: Money  # the amounts of their lines after the discount


class CouponPage(Struct):
    items: list[CouponFiguresOut]
    next_cursor: str | None


class EarningOut(Struct):
    """One order line's commission as its creator sees it."""

    order_id: UUID
    line_id: UUID
    product_id: UUID
    title: str
    amount: Money  # what the line earns now, net of reversals
    reversed: Money  # taken back by refunds
    state: str  # pending | approved | payable | paid | reversed
    # The two times are RFC 3339 text with a ``+00:00`` offset (the rest of the API writes ``Z``): published so,
    # and kept so until the API changes them on purpose.
    payable_at: str | None  # when it may be paid out (the end of the dispute window); None before completion
    reason: str  # the attribution rule that credited the line
    sold_at: str


class EarningsOut(Struct):
    lines: list[EarningOut]
    total: Money


class ReportRowOut(Struct):
    key: str
    label: str
    views: int
    unique_viewers: int
    clicks: int
    add_to_carts: int
    orders: int
    units: int
    gmv: Money
    refunds: Money
    net_gmv: Money
    commission: Money
    conversion_rate: float  # of the people who clicked, the share who then bought (0 when nobody clicked)
    epc: Money  # commission earned per click
    aov: Money  # net GMV per order


class ReportOut(Struct):
    group_by: str
    since: date  # the first day included (the ``from`` parameter)
    until: date  # the last day included (the ``to`` parameter)
    rows: list[ReportRowOut]
