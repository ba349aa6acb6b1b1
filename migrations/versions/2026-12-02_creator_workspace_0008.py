"""creator_workspace: coupons can be paused; a creator's storefront has an avatar and a few external links

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shop_coupon", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=8), server_default="active", nullable=False))

    with op.batch_alter_table("community_creator_profile", schema=None) as batch_op:
        batch_op.add_column(sa.Column("avatar_path", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "links",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                server_default="[]",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("community_creator_profile", schema=None) as batch_op:
        batch_op.drop_column("links")
        batch_op.drop_column("avatar_path")

    with op.batch_alter_table("shop_coupon", schema=None) as batch_op:
        batch_op.drop_column("status")
