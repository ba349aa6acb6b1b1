"""JSON shapes of the live rooms API: inputs reject unknown fields, money is never a float."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct

from kernel.money import Money
from shop import PriceIn, ProductOut

MAX_ROOM_PRODUCTS = 20
MAX_PINNED = 3

Id = Annotated[str, Meta(min_length=1, max_length=64)]
Title = Annotated[str, Meta(min_length=1, max_length=120)]
Description = Annotated[str, Meta(max_length=5000)]
Instant = Annotated[datetime, Meta(tz=True)]
ProductIds = Annotated[list[Id], Meta(max_length=MAX_ROOM_PRODUCTS)]
SlowModeSeconds = Annotated[int, Meta(ge=0, le=600)]


class RoomIn(Struct, forbid_unknown_fields=True):
    title: Title
    product_ids: ProductIds
    description: Description = ""
    scheduled_for: Instant | None = None  # omitted: the room may go live at once


class RoomPatch(Struct, forbid_unknown_fields=True):
    title: Title | None = None
    description: Description | None = None
    scheduled_for: Instant | None = None
    product_ids: ProductIds | None = None
    slow_mode_seconds: SlowModeSeconds | None = None


class PinIn(Struct, forbid_unknown_fields=True):
    product_id: Id


class DealIn(Struct, forbid_unknown_fields=True):
    product_id: Id
    price: PriceIn
    quantity: Annotated[int, Meta(ge=1, le=100_000)]
    ends_at: Instant
    per_buyer_limit: Annotated[int, Meta(ge=1, le=100)] = 1


class ModerationIn(Struct, forbid_unknown_fields=True):
    action: Literal["mute", "ban", "delete_message", "unmute", "unban"]
    user_id: Id | None = None
    message_id: Id | None = None


class HostOut(Struct):
    id: UUID
    display_name: str


class DealOut(Struct):
    id: UUID
    product_id: UUID
    price: Money
    quantity: int
    remaining: int
    per_buyer_limit: int
    starts_at: datetime
    ends_at: datetime


class RoomSummaryOut(Struct):
    """A room in a list: enough for a card (the first product's image stands in for a cover)."""

    id: UUID
    host: HostOut
    title: str
    description: str
    status: str
    scheduled_for: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    product_ids: list[UUID]
    cover_image_url: str | None
    like_count: int
    peak_viewers: int


class RoomPage(Struct):
    items: list[RoomSummaryOut]
    next_cursor: str | None


class RoomOut(Struct):
    """A room in full; ``whip_url`` and ``stream_key`` are set for its host only."""

    id: UUID
    host: HostOut
    title: str
    description: str
    status: str
    scheduled_for: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    products: list[ProductOut]
    pinned_product: ProductOut | None
    pinned_products: list[ProductOut]
    deals: list[DealOut]
    viewer_count: int
    like_count: int
    peak_viewers: int
    slow_mode_seconds: int
    whip_url: str | None = None
    stream_key: str | None = None


class PinsOut(Struct):
    pinned_product: ProductOut | None
    pinned_products: list[ProductOut]  # most recently pinned first


class StreamKeyOut(Struct):
    whip_url: str
    stream_key: str


class ModerationOut(Struct):
    action: str
    user_id: str | None
    message_id: str | None
