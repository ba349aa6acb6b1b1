"""Shop: catalog, checkout, the escrow ledger, orders, disputes, commissions and payouts.

This package root is shop's public API: live and community import from here and nowhere deeper.
"""

from shop.attribution import Attribution, CreatorResolver
from shop.deals import DealInfo, active_deals, create_deal, end_deals_for, get_deal
from shop.events import (
    ORDERS_TOPIC,
    DealRemaining,
    OrderCompleted,
    OrderPaid,
    OrderRefunded,
    ShopEvent,
    StockChanged,
    product_topic,
)
from shop.runtime import ShopRuntime
from shop.schemas import ProductOut
from shop.touches import TouchKind, TouchRecorder
from shop.views import products_by_id

__all__ = [
    "ORDERS_TOPIC",
    "Attribution",
    "CreatorResolver",
    "DealInfo",
    "DealRemaining",
    "OrderCompleted",
    "OrderPaid",
    "OrderRefunded",
    "ProductOut",
    "ShopEvent",
    "ShopRuntime",
    "StockChanged",
    "TouchKind",
    "TouchRecorder",
    "active_deals",
    "create_deal",
    "end_deals_for",
    "get_deal",
    "product_topic",
    "products_by_id",
]
