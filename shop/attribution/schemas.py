"""msgspec Structs of the attribution and reports JSON API."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from kernel.money import Money
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


class CouponIn(Struct, forbid_unknown_fields=True):
    code: Annotated[str, Meta(min_length=1, max_length=40)]
    discount_bps: Annotated[int, Meta(gt=0, le=5000)]


class CouponOut(Struct):
    code: str
    discount_bps: int
    creator_id: UUID


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
