"""dispute_threads: messages and photo evidence on a dispute, and the seller's partial refund offer

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:51:05.017470
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_dispute_message",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("dispute_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["auth_user.id"], name=op.f("fk_shop_dispute_message_author_id_auth_user")
        ),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["shop_dispute.id"],
            name=op.f("fk_shop_dispute_message_dispute_id_shop_dispute"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_dispute_message")),
    )
    with op.batch_alter_table("shop_dispute_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_dispute_message_dispute_id"), ["dispute_id"], unique=False)

    op.create_table(
        "shop_dispute_evidence",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("dispute_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["shop_dispute.id"],
            name=op.f("fk_shop_dispute_evidence_dispute_id_shop_dispute"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["shop_dispute_message.id"],
            name=op.f("fk_shop_dispute_evidence_message_id_shop_dispute_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_dispute_evidence")),
    )
    with op.batch_alter_table("shop_dispute_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_dispute_evidence_dispute_id"), ["dispute_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_dispute_evidence_message_id"), ["message_id"], unique=False)

    with op.batch_alter_table("shop_dispute", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offered_minor", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shop_dispute", schema=None) as batch_op:
        batch_op.drop_column("offered_minor")

    with op.batch_alter_table("shop_dispute_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_dispute_evidence_message_id"))
        batch_op.drop_index(batch_op.f("ix_shop_dispute_evidence_dispute_id"))

    op.drop_table("shop_dispute_evidence")
    with op.batch_alter_table("shop_dispute_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_dispute_message_dispute_id"))

    op.drop_table("shop_dispute_message")
