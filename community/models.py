"""community_* tables: creator profiles, posts and their embedded products, follows, likes, comments,
room reminders and in-app notifications.

Users, products and rooms are referenced by table name; no ORM relationship crosses a domain.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import JsonDocument


class PostStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CreatorProfile(UUIDv7AuditBase):
    __tablename__ = "community_creator_profile"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), unique=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    showcase_product_ids: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    avatar_path: Mapped[str | None] = mapped_column(String(200), default=None)  # under the media folder
    links: Mapped[list[dict[str, str]]] = mapped_column(JsonDocument, default=list, server_default="[]")  # label, url
    follower_count: Mapped[int] = mapped_column(default=0)


class Post(UUIDv7AuditBase):
    __tablename__ = "community_post"
    __table_args__ = (
        Index("ix_community_post_status_published", "status", "published_at"),
        Index("ix_community_post_author_published", "author_id", "published_at"),
    )

    author_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))
    title: Mapped[str] = mapped_column(String(160))
    body: Mapped[str] = mapped_column(Text)  # Markdown as written
    html: Mapped[str] = mapped_column(Text)  # rendered and sanitised; product embeds are placeholders
    cover_image_path: Mapped[str | None] = mapped_column(String(200), default=None)
    hashtags: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    status: Mapped[str] = mapped_column(String(12), default=PostStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    like_count: Mapped[int] = mapped_column(default=0)
    comment_count: Mapped[int] = mapped_column(default=0)


class PostProduct(UUIDv7Base):
    __tablename__ = "community_post_product"
    __table_args__ = (UniqueConstraint("post_id", "product_id"),)

    post_id: Mapped[UUID] = mapped_column(ForeignKey("community_post.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[UUID] = mapped_column(ForeignKey("shop_product.id"), index=True)
    position: Mapped[int]


class Follow(UUIDv7Base):
    __tablename__ = "community_follow"
    __table_args__ = (UniqueConstraint("follower_id", "creator_id"),)

    follower_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    creator_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    live_alerts: Mapped[bool] = mapped_column(default=True, server_default=true())  # notify when they go live


class LiveAnnouncement(UUIDv7Base):
    """A room's go-live told to its host's followers. Inserting the row claims the fan-out: workers race to insert
    it, and only the one whose insert wins writes the notifications, in the same transaction."""

    __tablename__ = "community_live_announcement"

    room_id: Mapped[UUID] = mapped_column(ForeignKey("live_room.id", ondelete="CASCADE"), unique=True)
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class PostLike(UUIDv7Base):
    __tablename__ = "community_post_like"
    __table_args__ = (UniqueConstraint("post_id", "user_id"),)

    post_id: Mapped[UUID] = mapped_column(ForeignKey("community_post.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class Comment(UUIDv7Base):
    __tablename__ = "community_comment"
    __table_args__ = (Index("ix_community_comment_post_at", "post_id", "at"),)

    post_id: Mapped[UUID] = mapped_column(ForeignKey("community_post.id", ondelete="CASCADE"))
    author_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))
    text: Mapped[str] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class RoomReminder(UUIDv7Base):
    __tablename__ = "community_room_reminder"
    __table_args__ = (UniqueConstraint("room_id", "user_id"),)

    room_id: Mapped[UUID] = mapped_column(ForeignKey("live_room.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class Notification(UUIDv7Base):
    __tablename__ = "community_notification"
    __table_args__ = (Index("ix_community_notification_user_at", "user_id", "at"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))  # room_live, ...
    text: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
