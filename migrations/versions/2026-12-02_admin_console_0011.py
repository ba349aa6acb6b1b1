"""admin_console: account suspension and its audit trail, stored payout runs, each background job's last run

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:51:26.827753
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kernel_job_run",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("started_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("finished_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("backlog", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kernel_job_run")),
        sa.UniqueConstraint("name", name=op.f("uq_kernel_job_run_name")),
    )
    op.create_table(
        "auth_account_event",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("actor_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["auth_user.id"], name=op.f("fk_auth_account_event_actor_id_auth_user")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_auth_account_event_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_account_event")),
    )
    with op.batch_alter_table("auth_account_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_account_event_user_id"), ["user_id"], unique=False)

    op.create_table(
        "shop_payout_run",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("run_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["run_by"], ["auth_user.id"], name=op.f("fk_shop_payout_run_run_by_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_payout_run")),
    )
    with op.batch_alter_table("shop_payout_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_payout_run_at"), ["at"], unique=False)

    with op.batch_alter_table("auth_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("suspended_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("suspension_reason", sa.String(length=300), nullable=True))

    with op.batch_alter_table("shop_payout", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_shop_payout_run_id"), ["run_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_shop_payout_run_id_shop_payout_run"), "shop_payout_run", ["run_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("shop_payout", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_shop_payout_run_id_shop_payout_run"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_shop_payout_run_id"))
        batch_op.drop_column("run_id")

    with op.batch_alter_table("auth_user", schema=None) as batch_op:
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("suspended_at")

    with op.batch_alter_table("shop_payout_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_payout_run_at"))

    op.drop_table("shop_payout_run")
    with op.batch_alter_table("auth_account_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_account_event_user_id"))

    op.drop_table("auth_account_event")
    op.drop_table("kernel_job_run")
