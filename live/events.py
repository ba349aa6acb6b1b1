"""The room channel's events: what the server sends to a room's sockets (API.md, "Room channel").

Each is a msgspec Struct tagged with its ``type``; a frame is one event or a JSON array of them. Community reads
``RoomStatusChanged`` from ``ROOMS_TOPIC`` to notify reminded users when a room goes live.
"""

from __future__ import annotations

from msgspec import Struct

from kernel.bus import topic
from kernel.money import Money

# Every room's status changes, for listeners outside the room (community's reminders and feed).
ROOMS_TOPIC = topic("live", "rooms")


def room_topic(room_id: object) -> str:
    return topic("room", room_id)


class ChatUser(Struct):
    id: str
    display_name: str


class ChatSent(Struct, tag_field="type", tag="chat"):
    id: str
    user: ChatUser
    text: str
    at: str


class Likes(Struct, tag_field="type", tag="likes"):
    count: int


class Viewers(Struct, tag_field="type", tag="viewers"):
    count: int


class ProductCard(Struct):
    id: str
    title: str
    price: Money
    stock: int
    image_url: str | None = None


class Pinned(Struct, tag_field="type", tag="pinned"):
    product: ProductCard | None
    products: list[ProductCard]  # every pinned product, most recent first (up to three)


class DealOffered(Struct, tag_field="type", tag="deal"):
    id: str
    product_id: str
    price: Money
    quantity: int
    remaining: int
    per_buyer_limit: int
    ends_at: str


class StockLeft(Struct, tag_field="type", tag="stock"):
    product_id: str
    remaining: int
    deal_id: str | None = None  # set when ``remaining`` counts a deal's quantity, not the product's stock


class Purchase(Struct, tag_field="type", tag="purchase"):
    product_id: str
    buyer: str  # masked, e.g. "S***r"
    quantity: int = 1


class Moderation(Struct, tag_field="type", tag="moderation"):
    action: str  # mute | ban | delete_message | slow_mode
    user_id: str | None = None
    message_id: str | None = None
    slow_mode_seconds: int | None = None


class StatusChanged(Struct, tag_field="type", tag="status"):
    status: str


class ChannelError(Struct, tag_field="type", tag="error", omit_defaults=True):
    code: str
    detail: str
    retry_after: int | None = None  # seconds, on ``rate_limited``, ``slow_mode`` and ``chat_unavailable``


RoomEvent = ChatSent | Likes | Viewers | Pinned | DealOffered | StockLeft | Purchase | Moderation | StatusChanged


class RoomStatusChanged(Struct, tag="live.room_status"):
    """Published on ``ROOMS_TOPIC`` when a room goes live or ends."""

    room_id: str
    host_id: str
    title: str
    status: str
    at: str
