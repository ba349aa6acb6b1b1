"""live_alerts: followers are told when a creator they follow goes live, unless they turned it off per creator

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:30:00.000000
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "community_live_announcement",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("room_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["live_room.id"],
            name=op.f("fk_community_live_announcement_room_id_live_room"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_live_announcement")),
        sa.UniqueConstraint("room_id", name=op.f("uq_community_live_announcement_room_id")),
    )
    with op.batch_alter_table("community_follow", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_alerts", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("community_follow", schema=None) as batch_op:
        batch_op.drop_column("live_alerts")

    op.drop_table("community_live_announcement")
