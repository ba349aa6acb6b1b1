"""money_64bit: every amount in minor units becomes a 64-bit integer

The API takes unit prices up to 10^10 minor units, and totals, refunds and postings go past 2^31, which 32-bit
columns refused on PostgreSQL. SQLite already stores every INTEGER in up to 8 bytes, so only PostgreSQL changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNTS = {
    "shop_product": ["price_minor"],
    "shop_order": ["total_minor", "refunded_minor"],
    "shop_order_line": ["unit_price_minor"],
    "shop_posting": ["amount_minor"],
    "shop_dispute": ["requested_minor", "refunded_minor"],
    "shop_payout": ["amount_minor"],
    "shop_deal": ["price_minor"],
    "shop_line_attribution": ["discount_minor"],
}


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, columns in AMOUNTS.items():
        for column in columns:
            op.alter_column(table, column, existing_type=old, type_=new, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    _retype(sa.BigInteger(), sa.Integer())
