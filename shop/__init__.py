"""Shop: catalog, checkout, the escrow ledger, orders, disputes, commissions and payouts.

This package root is shop's public API: live and community import from here and nowhere deeper.
"""

from shop.attribution import Attribution, CreatorResolver
from shop.events import ORDERS_TOPIC, OrderCompleted, OrderPaid, OrderRefunded, ShopEvent, StockChanged, product_topic
from shop.runtime import ShopRuntime
from shop.touches import TouchKind, TouchRecorder

__all__ = [
    "ORDERS_TOPIC",
    "Attribution",
    "CreatorResolver",
    "OrderCompleted",
    "OrderPaid",
    "OrderRefunded",
    "ShopEvent",
    "ShopRuntime",
    "StockChanged",
    "TouchKind",
    "TouchRecorder",
    "product_topic",
]
