"""attribution: referral links, creator coupons, line receipts and report rollups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 02:30:21.736916
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_attribution_rollup",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dim", sa.String(length=8), nullable=False),
        sa.Column("key", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("creator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seller_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("add_to_carts", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("gmv_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunds_minor", sa.BigInteger(), nullable=False),
        sa.Column("commission_minor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_attribution_rollup")),
        sa.UniqueConstraint("dim", "key", "day", "creator_id", "seller_id", name="uq_shop_attribution_rollup_cell"),
    )
    with op.batch_alter_table("shop_attribution_rollup", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shop_attribution_rollup_report", ["dim", "creator_id", "seller_id", "day"], unique=False
        )

    op.create_table(
        "shop_attribution_viewer",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dim", sa.String(length=8), nullable=False),
        sa.Column("key", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("creator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seller_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("viewer", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_attribution_viewer")),
        sa.UniqueConstraint(
            "dim", "key", "day", "creator_id", "seller_id", "viewer", name="uq_shop_attribution_viewer_cell"
        ),
    )
    with op.batch_alter_table("shop_attribution_viewer", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shop_attribution_viewer_report", ["dim", "creator_id", "seller_id", "day"], unique=False
        )

    op.create_table(
        "shop_rollup_cursor",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_rollup_cursor")),
        sa.UniqueConstraint("source", name=op.f("uq_shop_rollup_cursor_source")),
    )
    op.create_table(
        "shop_coupon",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("code_key", sa.String(length=40), nullable=False),
        sa.Column("creator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("discount_bps", sa.Integer(), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.CheckConstraint("discount_bps > 0 AND discount_bps <= 5000", name=op.f("ck_shop_coupon_discount_range")),
        sa.ForeignKeyConstraint(["creator_id"], ["auth_user.id"], name=op.f("fk_shop_coupon_creator_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_coupon")),
        sa.UniqueConstraint("code_key", name=op.f("uq_shop_coupon_code_key")),
    )
    with op.batch_alter_table("shop_coupon", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_coupon_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "shop_referral_link",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("creator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["auth_user.id"], name=op.f("fk_shop_referral_link_creator_id_auth_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_referral_link")),
        sa.UniqueConstraint("code", name=op.f("uq_shop_referral_link_code")),
    )
    with op.batch_alter_table("shop_referral_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_referral_link_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "shop_line_attribution",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("order_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("creator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("room_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("post_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("decided_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("coupon_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("discount_minor", sa.Integer(), nullable=False),
        sa.Column(
            "candidates", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.CheckConstraint("discount_minor >= 0", name=op.f("ck_shop_line_attribution_discount_not_negative")),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["shop_coupon.id"], name=op.f("fk_shop_line_attribution_coupon_id_shop_coupon")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["shop_order_line.id"],
            name=op.f("fk_shop_line_attribution_line_id_shop_order_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["shop_order.id"],
            name=op.f("fk_shop_line_attribution_order_id_shop_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_line_attribution")),
        sa.UniqueConstraint("line_id", name=op.f("uq_shop_line_attribution_line_id")),
    )
    with op.batch_alter_table("shop_line_attribution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_line_attribution_coupon_id"), ["coupon_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_line_attribution_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shop_line_attribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_line_attribution_order_id"))
        batch_op.drop_index(batch_op.f("ix_shop_line_attribution_coupon_id"))

    op.drop_table("shop_line_attribution")
    with op.batch_alter_table("shop_referral_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_referral_link_creator_id"))

    op.drop_table("shop_referral_link")
    with op.batch_alter_table("shop_coupon", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_coupon_creator_id"))

    op.drop_table("shop_coupon")
    op.drop_table("shop_rollup_cursor")
    with op.batch_alter_table("shop_attribution_viewer", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_attribution_viewer_report")

    op.drop_table("shop_attribution_viewer")
    with op.batch_alter_table("shop_attribution_rollup", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_attribution_rollup_report")

    op.drop_table("shop_attribution_rollup")
