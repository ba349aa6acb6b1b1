"""shop_* tables, one module per concept: catalog, orders, ledger, attribution, dispute threads.

Money is always two columns, an integer amount in minor units (64-bit, ``kernel.db.MinorUnits``) and an ISO 4217
currency. Users are referenced by table name (``auth_user.id``); no ORM relationship crosses a domain. Importing
this package registers every shop table on the shared metadata.
"""

from shop.models.attribution import (
    AttributionRollup,
    AttributionViewer,
    Coupon,
    LineAttribution,
    ReferralLink,
    RollupCursor,
    Touch,
)
from shop.models.catalog import Category, Deal, Product, ProductImage
from shop.models.disputes import DisputeEvidence, DisputeMessage
from shop.models.ledger import JournalEntry, Payout, PayoutRun, Posting
from shop.models.orders import (
    CartItem,
    ChargeIntent,
    ChargeIntentStatus,
    Dispute,
    DisputeReason,
    DisputeStatus,
    IdempotencyKey,
    Order,
    OrderAction,
    OrderEvent,
    OrderLine,
    OrderStatus,
)

__all__ = [
    "AttributionRollup",
    "AttributionViewer",
    "CartItem",
    "Category",
    "ChargeIntent",
    "ChargeIntentStatus",
    "Coupon",
    "Deal",
    "Dispute",
    "DisputeEvidence",
    "DisputeMessage",
    "DisputeReason",
    "DisputeStatus",
    "IdempotencyKey",
    "JournalEntry",
    "LineAttribution",
    "Order",
    "OrderAction",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "Payout",
    "PayoutRun",
    "Posting",
    "Product",
    "ProductImage",
    "ReferralLink",
    "RollupCursor",
    "Touch",
]
