"""charge_intents: a checkout records its intent to charge before the provider is asked

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 06:29:10.178490
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_charge_intent",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("buyer_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("charge_id", sa.String(length=80), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("attempted_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["buyer_id"], ["auth_user.id"], name=op.f("fk_shop_charge_intent_buyer_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_charge_intent")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_shop_charge_intent_scope")),
    )
    with op.batch_alter_table("shop_charge_intent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_charge_intent_attempted_at"), ["attempted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_charge_intent_buyer_id"), ["buyer_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shop_charge_intent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_charge_intent_buyer_id"))
        batch_op.drop_index(batch_op.f("ix_shop_charge_intent_attempted_at"))

    op.drop_table("shop_charge_intent")
