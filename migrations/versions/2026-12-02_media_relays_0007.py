"""media_relays: which process relays a room, and its heartbeat, so only a gone relay's rooms are swept

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:41:28.254282
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "live_relay",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("node_url", sa.String(length=200), nullable=True),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("seen_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_relay")),
    )
    with op.batch_alter_table("live_relay", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_relay_seen_at"), ["seen_at"], unique=False)

    with op.batch_alter_table("live_room", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relay_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("live_room", schema=None) as batch_op:
        batch_op.drop_column("relay_id")

    with op.batch_alter_table("live_relay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_relay_seen_at"))

    op.drop_table("live_relay")
