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
from shop.images import MAX_IMAGE_BYTES, image_kind
from shop.reports import live_row
from shop.rollups import catch_up as refresh_reports
from shop.runtime import ShopRuntime
from shop.sales import creator_net_sales, units_by_source
from shop.schemas import PriceIn, ProductOut
from shop.touches import TouchKind, TouchRecorder
from shop.views import newest_products, products_by_id

__all__ = [
    "MAX_IMAGE_BYTES",
    "ORDERS_TOPIC",
    "Attribution",
    "CreatorResolver",
    "DealInfo",
    "DealRemaining",
    "OrderCompleted",
    "OrderPaid",
    "OrderRefunded",
    "PriceIn",
    "ProductOut",
    "ShopEvent",
    "ShopRuntime",
    "StockChanged",
    "TouchKind",
    "TouchRecorder",
    "active_deals",
    "create_deal",
    "creator_net_sales",
    "end_deals_for",
    "get_deal",
    "image_kind",
    "live_row",
    "newest_products",
    "product_topic",
    "products_by_id",
    "refresh_reports",
    "units_by_source",
]
