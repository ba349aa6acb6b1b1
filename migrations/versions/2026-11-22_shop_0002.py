"""shop

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:29:09.008293
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from uuid_utils.compat import uuid7

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The starting categories and their platform commission; admins change them later.
SEED_CATEGORIES = [
    ("fashion", "Fashion", 800),
    ("beauty", "Beauty", 800),
    ("electronics", "Electronics", 500),
    ("home", "Home & Living", 600),
    ("sports", "Sports & Outdoors", 600),
    ("toys", "Toys & Hobbies", 700),
]


def upgrade() -> None:
    op.create_table(
        "shop_category",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_category")),
        sa.UniqueConstraint("slug", name=op.f("uq_shop_category_slug")),
    )
    op.create_table(
        "shop_idempotency_key",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column(
            "response", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_idempotency_key")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_shop_idempotency_key_scope")),
    )
    op.create_table(
        "shop_order",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("checkout_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("buyer_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seller_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.Integer(), nullable=False),
        sa.Column("refunded_minor", sa.Integer(), nullable=False),
        sa.Column(
            "shipping_address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("charge_id", sa.String(length=80), nullable=False),
        sa.Column("carrier", sa.String(length=60), nullable=True),
        sa.Column("tracking_number", sa.String(length=80), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ship_by", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("auto_confirm_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("shipped_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("completed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("released_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("dispute_until", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("status_before_dispute", sa.String(length=24), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= total_minor", name=op.f("ck_shop_order_refund_within_total")
        ),
        sa.ForeignKeyConstraint(["buyer_id"], ["auth_user.id"], name=op.f("fk_shop_order_buyer_id_auth_user")),
        sa.ForeignKeyConstraint(["seller_id"], ["auth_user.id"], name=op.f("fk_shop_order_seller_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_order")),
    )
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_order_auto_confirm_at"), ["auto_confirm_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_checkout_id"), ["checkout_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_seller_id"), ["seller_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_ship_by"), ["ship_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_status"), ["status"], unique=False)

    op.create_table(
        "shop_payout",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("party_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("provider_ref", sa.String(length=80), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["party_id"], ["auth_user.id"], name=op.f("fk_shop_payout_party_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_payout")),
    )
    with op.batch_alter_table("shop_payout", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_payout_party_id"), ["party_id"], unique=False)

    op.create_table(
        "shop_product",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seller_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category_slug", sa.String(length=40), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("affiliate_rate_bps", sa.Integer(), nullable=False),
        sa.Column("image_path", sa.String(length=200), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_slug"], ["shop_category.slug"], name=op.f("fk_shop_product_category_slug_shop_category")
        ),
        sa.ForeignKeyConstraint(["seller_id"], ["auth_user.id"], name=op.f("fk_shop_product_seller_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_product")),
    )
    with op.batch_alter_table("shop_product", schema=None) as batch_op:
        batch_op.create_index("ix_shop_product_category_price", ["category_slug", "price_minor"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_product_seller_id"), ["seller_id"], unique=False)

    op.create_table(
        "shop_cart_item",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("buyer_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("product_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "source", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["auth_user.id"], name=op.f("fk_shop_cart_item_buyer_id_auth_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["shop_product.id"],
            name=op.f("fk_shop_cart_item_product_id_shop_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_cart_item")),
        sa.UniqueConstraint("buyer_id", "product_id", name=op.f("uq_shop_cart_item_buyer_id")),
    )
    with op.batch_alter_table("shop_cart_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_cart_item_buyer_id"), ["buyer_id"], unique=False)

    op.create_table(
        "shop_dispute",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("order_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("buyer_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seller_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("requested_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("respond_by", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("resolved_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("refunded_minor", sa.Integer(), nullable=False),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["buyer_id"], ["auth_user.id"], name=op.f("fk_shop_dispute_buyer_id_auth_user")),
        sa.ForeignKeyConstraint(["order_id"], ["shop_order.id"], name=op.f("fk_shop_dispute_order_id_shop_order")),
        sa.ForeignKeyConstraint(["seller_id"], ["auth_user.id"], name=op.f("fk_shop_dispute_seller_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_dispute")),
    )
    with op.batch_alter_table("shop_dispute", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_dispute_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_dispute_respond_by"), ["respond_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_dispute_seller_id"), ["seller_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_dispute_status"), ["status"], unique=False)

    op.create_table(
        "shop_journal_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("order_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("memo", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_shop_journal_entry_order_id_shop_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_journal_entry")),
    )
    with op.batch_alter_table("shop_journal_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_journal_entry_order_id"), ["order_id"], unique=False)

    op.create_table(
        "shop_order_event",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("order_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["auth_user.id"], name=op.f("fk_shop_order_event_actor_id_auth_user")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_shop_order_event_order_id_shop_order"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_order_event")),
    )
    with op.batch_alter_table("shop_order_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_order_event_order_id"), ["order_id"], unique=False)

    op.create_table(
        "shop_order_line",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("order_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("product_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("unit_price_minor", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("category_slug", sa.String(length=40), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("creator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("affiliate_rate_bps", sa.Integer(), nullable=False),
        sa.Column(
            "source", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["creator_id"], ["auth_user.id"], name=op.f("fk_shop_order_line_creator_id_auth_user")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["shop_order.id"], name=op.f("fk_shop_order_line_order_id_shop_order"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["shop_product.id"], name=op.f("fk_shop_order_line_product_id_shop_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_order_line")),
    )
    with op.batch_alter_table("shop_order_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_order_line_creator_id"), ["creator_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_line_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_order_line_product_id"), ["product_id"], unique=False)

    op.create_table(
        "shop_posting",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account", sa.String(length=80), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("available_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["shop_journal_entry.id"], name=op.f("fk_shop_posting_entry_id_shop_journal_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_posting")),
    )
    with op.batch_alter_table("shop_posting", schema=None) as batch_op:
        batch_op.create_index("ix_shop_posting_account_available", ["account", "available_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_posting_entry_id"), ["entry_id"], unique=False)

    categories = sa.table(
        "shop_category",
        sa.column("id", advanced_alchemy.types.guid.GUID(length=16)),
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("commission_bps", sa.Integer),
    )
    op.bulk_insert(
        categories,
        [{"id": uuid7(), "slug": slug, "name": name, "commission_bps": bps} for slug, name, bps in SEED_CATEGORIES],
    )


def downgrade() -> None:
    with op.batch_alter_table("shop_posting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_posting_entry_id"))
        batch_op.drop_index("ix_shop_posting_account_available")

    op.drop_table("shop_posting")
    with op.batch_alter_table("shop_order_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_order_line_product_id"))
        batch_op.drop_index(batch_op.f("ix_shop_order_line_order_id"))
        batch_op.drop_index(batch_op.f("ix_shop_order_line_creator_id"))

    op.drop_table("shop_order_line")
    with op.batch_alter_table("shop_order_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_order_event_order_id"))

    op.drop_table("shop_order_event")
    with op.batch_alter_table("shop_journal_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_journal_entry_order_id"))

    op.drop_table("shop_journal_entry")
    with op.batch_alter_table("shop_dispute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_dispute_status"))
        batch_op.drop_index(batch_op.f("ix_shop_dispute_seller_id"))
        batch_op.drop_index(batch_op.f("ix_shop_dispute_respond_by"))
        batch_op.drop_index(batch_op.f("ix_shop_dispute_order_id"))

    op.drop_table("shop_dispute")
    with op.batch_alter_table("shop_cart_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_cart_item_buyer_id"))

    op.drop_table("shop_cart_item")
    with op.batch_alter_table("shop_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_product_seller_id"))
        batch_op.drop_index("ix_shop_product_category_price")

    op.drop_table("shop_product")
    with op.batch_alter_table("shop_payout", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_payout_party_id"))

    op.drop_table("shop_payout")
    with op.batch_alter_table("shop_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_order_status"))
        batch_op.drop_index(batch_op.f("ix_shop_order_ship_by"))
        batch_op.drop_index(batch_op.f("ix_shop_order_seller_id"))
        batch_op.drop_index(batch_op.f("ix_shop_order_checkout_id"))
        batch_op.drop_index(batch_op.f("ix_shop_order_buyer_id"))
        batch_op.drop_index(batch_op.f("ix_shop_order_auto_confirm_at"))

    op.drop_table("shop_order")
    op.drop_table("shop_idempotency_key")
    op.drop_table("shop_category")
