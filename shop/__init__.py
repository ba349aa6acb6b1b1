"""Shop: catalog, checkout, the escrow ledger, orders, disputes, commissions and payouts.

This package root is shop's public API: live and community import from here and nowhere deeper.
"""

from shop.attribution.reports import live_row
from shop.attribution.rollups import catch_up as refresh_reports
from shop.attribution.rule import Attribution, CreatorResolver, titles_from
from shop.attribution.sales import creator_net_sales, units_by_source
from shop.attribution.touches import TouchKind, TouchRecorder
from shop.catalog.deals import DealInfo, active_deals, create_deal, end_deals_for, get_deal
from shop.catalog.images import MAX_IMAGE_BYTES, image_kind
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
from shop.schemas import PriceIn, ProductOut
from shop.views import find_products, newest_products, products_by_id

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
    "find_products",
    "get_deal",
    "image_kind",
    "live_row",
    "newest_products",
    "product_topic",
    "products_by_id",
    "refresh_reports",
    "titles_from",
    "units_by_source",
]
