"""live and community

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 02:22:59.374182
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shop_touch",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("creator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("product_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("room_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("post_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("link_code", sa.String(length=32), nullable=True),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("visitor_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_touch")),
    )
    with op.batch_alter_table("shop_touch", schema=None) as batch_op:
        batch_op.create_index("ix_shop_touch_creator_at", ["creator_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_touch_post_id"), ["post_id"], unique=False)
        batch_op.create_index("ix_shop_touch_product_at", ["product_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_touch_room_id"), ["room_id"], unique=False)
        batch_op.create_index("ix_shop_touch_user_at", ["user_id", "at"], unique=False)

    op.create_table(
        "community_creator_profile",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column(
            "showcase_product_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("follower_count", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["auth_user.id"],
            name=op.f("fk_community_creator_profile_user_id_auth_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_creator_profile")),
        sa.UniqueConstraint("user_id", name=op.f("uq_community_creator_profile_user_id")),
    )
    op.create_table(
        "community_follow",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("follower_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("creator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["auth_user.id"], name=op.f("fk_community_follow_creator_id_auth_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["auth_user.id"],
            name=op.f("fk_community_follow_follower_id_auth_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_follow")),
        sa.UniqueConstraint("follower_id", "creator_id", name=op.f("uq_community_follow_follower_id")),
    )
    with op.batch_alter_table("community_follow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_follow_creator_id"), ["creator_id"], unique=False)

    op.create_table(
        "community_notification",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("read_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_community_notification_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_notification")),
    )
    with op.batch_alter_table("community_notification", schema=None) as batch_op:
        batch_op.create_index("ix_community_notification_user_at", ["user_id", "at"], unique=False)

    op.create_table(
        "community_post",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("cover_image_path", sa.String(length=200), nullable=True),
        sa.Column(
            "hashtags", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("published_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("comment_count", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["auth_user.id"], name=op.f("fk_community_post_author_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_post")),
    )
    with op.batch_alter_table("community_post", schema=None) as batch_op:
        batch_op.create_index("ix_community_post_author_published", ["author_id", "published_at"], unique=False)
        batch_op.create_index("ix_community_post_status_published", ["status", "published_at"], unique=False)

    op.create_table(
        "live_room",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("host_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("scheduled_for", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("started_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("ended_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("stream_key", sa.String(length=64), nullable=False),
        sa.Column(
            "pinned_product_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("slow_mode_seconds", sa.Integer(), nullable=False),
        sa.Column("like_count", sa.Integer(), nullable=False),
        sa.Column("peak_viewers", sa.Integer(), nullable=False),
        sa.Column("media_node", sa.String(length=200), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["host_id"], ["auth_user.id"], name=op.f("fk_live_room_host_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_room")),
    )
    with op.batch_alter_table("live_room", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_room_host_id"), ["host_id"], unique=False)
        batch_op.create_index("ix_live_room_status_scheduled", ["status", "scheduled_for"], unique=False)

    op.create_table(
        "community_comment",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("post_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("deleted_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["author_id"], ["auth_user.id"], name=op.f("fk_community_comment_author_id_auth_user")),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_post.id"],
            name=op.f("fk_community_comment_post_id_community_post"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_comment")),
    )
    with op.batch_alter_table("community_comment", schema=None) as batch_op:
        batch_op.create_index("ix_community_comment_post_at", ["post_id", "at"], unique=False)

    op.create_table(
        "community_post_like",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("post_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_post.id"],
            name=op.f("fk_community_post_like_post_id_community_post"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_community_post_like_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_post_like")),
        sa.UniqueConstraint("post_id", "user_id", name=op.f("uq_community_post_like_post_id")),
    )
    with op.batch_alter_table("community_post_like", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_post_like_at"), ["at"], unique=False)

    op.create_table(
        "community_post_product",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("post_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("product_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_post.id"],
            name=op.f("fk_community_post_product_post_id_community_post"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["shop_product.id"], name=op.f("fk_community_post_product_product_id_shop_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_post_product")),
        sa.UniqueConstraint("post_id", "product_id", name=op.f("uq_community_post_product_post_id")),
    )
    with op.batch_alter_table("community_post_product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_post_product_post_id"), ["post_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_community_post_product_product_id"), ["product_id"], unique=False)

    op.create_table(
        "community_room_reminder",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("room_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("notified_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_room.id"], name=op.f("fk_community_room_reminder_room_id_live_room"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["auth_user.id"], name=op.f("fk_community_room_reminder_user_id_auth_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_room_reminder")),
        sa.UniqueConstraint("room_id", "user_id", name=op.f("uq_community_room_reminder_room_id")),
    )
    with op.batch_alter_table("community_room_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_room_reminder_room_id"), ["room_id"], unique=False)

    op.create_table(
        "live_chat_message",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("room_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("deleted_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_room.id"], name=op.f("fk_live_chat_message_room_id_live_room"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], name=op.f("fk_live_chat_message_user_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_chat_message")),
    )
    with op.batch_alter_table("live_chat_message", schema=None) as batch_op:
        batch_op.create_index("ix_live_chat_message_room_at", ["room_id", "at"], unique=False)

    op.create_table(
        "live_room_product",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("room_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("product_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["shop_product.id"], name=op.f("fk_live_room_product_product_id_shop_product")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_room.id"], name=op.f("fk_live_room_product_room_id_live_room"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_room_product")),
        sa.UniqueConstraint("room_id", "product_id", name=op.f("uq_live_room_product_room_id")),
    )
    with op.batch_alter_table("live_room_product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_room_product_room_id"), ["room_id"], unique=False)

    op.create_table(
        "live_sanction",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("room_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("by_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["by_id"], ["auth_user.id"], name=op.f("fk_live_sanction_by_id_auth_user")),
        sa.ForeignKeyConstraint(
            ["room_id"], ["live_room.id"], name=op.f("fk_live_sanction_room_id_live_room"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["auth_user.id"], name=op.f("fk_live_sanction_user_id_auth_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sanction")),
        sa.UniqueConstraint("room_id", "user_id", "kind", name=op.f("uq_live_sanction_room_id")),
    )
    with op.batch_alter_table("live_sanction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_live_sanction_room_id"), ["room_id"], unique=False)

    op.create_table(
        "shop_deal",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("product_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("price_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("per_buyer_limit", sa.Integer(), nullable=False),
        sa.Column("starts_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ends_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column(
            "context", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_by", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.CheckConstraint("per_buyer_limit > 0", name=op.f("ck_shop_deal_per_buyer_limit_positive")),
        sa.CheckConstraint(
            "remaining >= 0 AND remaining <= quantity", name=op.f("ck_shop_deal_remaining_within_quantity")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["auth_user.id"], name=op.f("fk_shop_deal_created_by_auth_user")),
        sa.ForeignKeyConstraint(["product_id"], ["shop_product.id"], name=op.f("fk_shop_deal_product_id_shop_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_deal")),
    )
    with op.batch_alter_table("shop_deal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shop_deal_ends_at"), ["ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shop_deal_product_id"), ["product_id"], unique=False)

    with op.batch_alter_table("shop_order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deal_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_shop_order_line_deal_id"), ["deal_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_shop_order_line_deal_id_shop_deal"), "shop_deal", ["deal_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("shop_order_line", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_shop_order_line_deal_id_shop_deal"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_shop_order_line_deal_id"))
        batch_op.drop_column("deal_id")

    with op.batch_alter_table("shop_deal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shop_deal_product_id"))
        batch_op.drop_index(batch_op.f("ix_shop_deal_ends_at"))

    op.drop_table("shop_deal")
    with op.batch_alter_table("live_sanction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_sanction_room_id"))

    op.drop_table("live_sanction")
    with op.batch_alter_table("live_room_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_live_room_product_room_id"))

    op.drop_table("live_room_product")
    with op.batch_alter_table("live_chat_message", schema=None) as batch_op:
        batch_op.drop_index("ix_live_chat_message_room_at")

    op.drop_table("live_chat_message")
    with op.batch_alter_table("community_room_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_room_reminder_room_id"))

    op.drop_table("community_room_reminder")
    with op.batch_alter_table("community_post_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_post_product_product_id"))
        batch_op.drop_index(batch_op.f("ix_community_post_product_post_id"))

    op.drop_table("community_post_product")
    with op.batch_alter_table("community_post_like", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_post_like_at"))

    op.drop_table("community_post_like")
    with op.batch_alter_table("community_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_community_comment_post_at")

    op.drop_table("community_comment")
    with op.batch_alter_table("live_room", schema=None) as batch_op:
        batch_op.drop_index("ix_live_room_status_scheduled")
        batch_op.drop_index(batch_op.f("ix_live_room_host_id"))

    op.drop_table("live_room")
    with op.batch_alter_table("community_post", schema=None) as batch_op:
        batch_op.drop_index("ix_community_post_status_published")
        batch_op.drop_index("ix_community_post_author_published")

    op.drop_table("community_post")
    with op.batch_alter_table("community_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_community_notification_user_at")

    op.drop_table("community_notification")
    with op.batch_alter_table("community_follow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_community_follow_creator_id"))

    op.drop_table("community_follow")
    op.drop_table("community_creator_profile")
    with op.batch_alter_table("shop_touch", schema=None) as batch_op:
        batch_op.drop_index("ix_shop_touch_user_at")
        batch_op.drop_index(batch_op.f("ix_shop_touch_room_id"))
        batch_op.drop_index("ix_shop_touch_product_at")
        batch_op.drop_index(batch_op.f("ix_shop_touch_post_id"))
        batch_op.drop_index("ix_shop_touch_creator_at")

    op.drop_table("shop_touch")
