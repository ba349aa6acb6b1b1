"""msgspec shapes of the community JSON API: inputs reject unknown fields, outputs name what they hold."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct

from kernel.money import Money
from shop import ProductOut

Title = Annotated[str, Meta(min_length=1, max_length=160)]
Body = Annotated[str, Meta(max_length=50_000)]
Hashtag = Annotated[str, Meta(min_length=1, max_length=31)]
Hashtags = Annotated[list[Hashtag], Meta(max_length=5)]
PostStatusIn = Literal["draft", "published"]


class PostIn(Struct, forbid_unknown_fields=True):
    title: Title
    body: Body
    hashtags: Hashtags = []
    status: PostStatusIn = "draft"


class PostPatch(Struct, forbid_unknown_fields=True):
    title: Title | None = None
    body: Body | None = None
    hashtags: Hashtags | None = None
    status: PostStatusIn | None = None


class AuthorOut(Struct):
    id: UUID
    display_name: str


class PostOut(Struct):
    """A post. ``html`` holds one ``<div class="product-embed" data-product-id="...">`` per embed, for the card
    that ``products`` describes with its current price and stock."""

    id: UUID
    author: AuthorOut
    title: str
    body: str
    html: str
    hashtags: list[str]
    status: str
    cover_image_url: str | None
    products: list[ProductOut]
    like_count: int
    comment_count: int
    created_at: datetime | None
    updated_at: datetime | None
    published_at: datetime | None
    liked: bool = False  # by the caller


class PostSummary(Struct):
    id: UUID
    author: AuthorOut
    title: str
    excerpt: str
    hashtags: list[str]
    status: str
    cover_image_url: str | None
    like_count: int
    comment_count: int
    published_at: datetime | None
    updated_at: datetime | None


class PostPage(Struct):
    items: list[PostSummary]
    next_cursor: str | None


class CommentIn(Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(min_length=1, max_length=1000)]


class CommentOut(Struct):
    id: UUID
    post_id: UUID
    author: AuthorOut
    text: str  # plain text as written; escape it wherever it is shown
    at: datetime | None


class CommentPage(Struct):
    items: list[CommentOut]
    next_cursor: str | None


class LikeOut(Struct):
    post_id: UUID
    liked: bool
    like_count: int


class FollowOut(Struct):
    creator_id: UUID
    following: bool
    follower_count: int
    live_alerts: bool = False  # the follower is notified when the creator goes live


class FollowPatch(Struct, forbid_unknown_fields=True):
    live_alerts: bool


class RoomSummary(Struct):
    id: UUID
    title: str
    status: str
    scheduled_for: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


class CreatorRooms(Struct):
    live: list[RoomSummary]
    upcoming: list[RoomSummary]
    past: list[RoomSummary]


class StorefrontLink(Struct, forbid_unknown_fields=True):
    """An external link on a creator's storefront: an https address and the words shown for it."""

    label: Annotated[str, Meta(min_length=1, max_length=40)]
    url: Annotated[str, Meta(min_length=9, max_length=300)]  # https://, checked by community.profiles


class CreatorOut(Struct):
    id: UUID
    display_name: str
    bio: str
    follower_count: int
    following: bool  # the caller follows this creator
    live_alerts: bool  # and is notified when they go live
    posts: list[PostSummary]
    rooms: CreatorRooms
    showcase: list[ProductOut]
    avatar_url: str | None = None
    links: list[StorefrontLink] = []


class CreatorPatch(Struct, forbid_unknown_fields=True):
    bio: Annotated[str, Meta(max_length=2000)] | None = None
    showcase_product_ids: (
        Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(max_length=12)] | None
    ) = None
    links: Annotated[list[StorefrontLink], Meta(max_length=5)] | None = None


class LeaderboardEntry(Struct):
    rank: int
    creator: AuthorOut
    level: str
    score: int
    net_sales: Money
    likes: int
    comments: int
    new_followers: int


class LeaderboardOut(Struct):
    period: str
    since: datetime
    until: datetime
    scoring: str
    levels: dict[str, int]
    entries: list[LeaderboardEntry]
