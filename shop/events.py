"""What shop tells the other domains, published on the bus after the transaction commits. Data only."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from kernel.bus import topic
from kernel.money import Money

ORDERS_TOPIC = topic("shop", "orders")


def product_topic(product_id: object) -> str:
    return topic("product", product_id)


class PaidLine(Struct):
    product_id: str
    title: str
    quantity: int
    creator_id: str | None
    source: dict[str, Any] | None
    deal_id: str | None = None


class OrderPaid(Struct, tag="shop.order_paid"):
    order_id: str
    buyer_id: str
    buyer_masked: str  # "S***r": safe to show in a public purchase ticker
    seller_id: str
    total: Money
    lines: list[PaidLine]


class StockChanged(Struct, tag="shop.stock"):
    product_id: str
    stock: int


class DealRemaining(Struct, tag="shop.deal_remaining"):
    """A deal's remaining quantity changed (published on the deal's ``product_topic``)."""

    deal_id: str
    product_id: str
    remaining: int


class OrderCompleted(Struct, tag="shop.order_completed"):
    order_id: str
    total: Money


class OrderRefunded(Struct, tag="shop.order_refunded"):
    order_id: str
    amount: Money
    refunded_total: Money


ShopEvent = OrderPaid | StockChanged | DealRemaining | OrderCompleted | OrderRefunded


def mask_name(name: str) -> str:
    name = name.strip() or "Buyer"
    return name[0] + "***" + (name[-1] if len(name) > 1 else "")
