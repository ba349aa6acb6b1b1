"""live_* tables: rooms, their products, chat history, moderation sanctions and the media relays.

Users and products are referenced by table name (``auth_user.id``, ``shop_product.id``); no ORM relationship
crosses a domain.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kernel.db import JsonDocument


class RoomStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"


class SanctionKind(StrEnum):
    MUTE = "mute"  # may watch, may not chat
    BAN = "ban"  # may not chat, and the socket is closed


class Room(UUIDv7AuditBase):
    __tablename__ = "live_room"
    __table_args__ = (Index("ix_live_room_status_scheduled", "status", "scheduled_for"),)

    host_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default=RoomStatus.SCHEDULED)
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    started_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    # The secret an encoder (OBS, the studio page) presents as its WHIP bearer token; rotatable by the host.
    stream_key: Mapped[str] = mapped_column(String(64))
    # Up to three product ids, most recently pinned first.
    pinned_product_ids: Mapped[list[str]] = mapped_column(JsonDocument, default=list)
    slow_mode_seconds: Mapped[int] = mapped_column(default=0)
    like_count: Mapped[int] = mapped_column(default=0)
    peak_viewers: Mapped[int] = mapped_column(default=0)
    # The media node that holds this room's broadcast (its base URL), so WHIP/WHEP requests reach it.
    media_node: Mapped[str | None] = mapped_column(String(200), default=None)
    # The relay process holding the broadcast (``Relay.id``): only it ends the room, or a sweep once it is gone.
    # No foreign key: a relay's row goes when the process stops, and a row gone means the relay is gone.
    relay_id: Mapped[UUID | None] = mapped_column(default=None)


class Relay(UUIDv7Base):
    """A process relaying media (an embedded app or a media node), alive while it renews ``seen_at``."""

    __tablename__ = "live_relay"

    node_url: Mapped[str | None] = mapped_column(String(200), default=None)  # None: an app's embedded relay
    label: Mapped[str] = mapped_column(String(120))  # host name and process id, for whoever reads the table
    seen_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)


class RoomProduct(UUIDv7Base):
    __tablename__ = "live_room_product"
    __table_args__ = (UniqueConstraint("room_id", "product_id"),)

    room_id: Mapped[UUID] = mapped_column(ForeignKey("live_room.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[UUID] = mapped_column(ForeignKey("shop_product.id"))
    position: Mapped[int]


class ChatMessage(UUIDv7Base):
    __tablename__ = "live_chat_message"
    __table_args__ = (Index("ix_live_chat_message_room_at", "room_id", "at"),)

    room_id: Mapped[UUID] = mapped_column(ForeignKey("live_room.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))
    text: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class Sanction(UUIDv7Base):
    __tablename__ = "live_sanction"
    __table_args__ = (UniqueConstraint("room_id", "user_id", "kind"),)

    room_id: Mapped[UUID] = mapped_column(ForeignKey("live_room.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))
    kind: Mapped[str] = mapped_column(String(8))
    by_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
