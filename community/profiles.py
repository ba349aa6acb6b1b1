"""Creator profiles: bio, follower count, posts, rooms (live, upcoming, past) and showcased products."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.follows import ensure_profile, follow_of, follower_count, is_creator
from community.models import CreatorProfile
from community.posts import PostService
from community.schemas import CreatorOut, CreatorPatch, CreatorRooms, RoomSummary, StorefrontLink
from kernel.auth import CurrentUser
from kernel.auth.models import User
from kernel.clock import Clock
from kernel.errors import NotFound, RuleBroken
from live import RoomView, host_rooms
from shop import MAX_IMAGE_BYTES, ProductOut, image_kind, products_by_id

PROFILE_POSTS = 20
HOST_ROOMS = 20  # live rooms, and as many upcoming ones
PAST_ROOMS = 10


def avatar_url(profile: CreatorProfile | None) -> str | None:
    return f"/media/{profile.avatar_path}" if profile is not None and profile.avatar_path else None


def checked_links(links: list[StorefrontLink]) -> list[dict[str, str]]:
    """The storefront's links as stored; RuleBroken naming each address that is not a plain https URL.

    Only https with a host is accepted: no ``javascript:`` or ``data:`` address can reach a page, and no visitor
    is sent over plain http from a creator's page.
    """
    errors = []
    for index, link in enumerate(links):
        parts = urlsplit(link.url.strip())
        if parts.scheme != "https" or not parts.hostname or parts.username or parts.password or " " in link.url.strip():
            errors.append({"field": f"links[{index}].url", "message": "Use a full https:// address."})
        if not link.label.strip():
            errors.append({"field": f"links[{index}].label", "message": "Required."})
    if errors:
        raise RuleBroken("invalid_link", "Each link needs a label and a full https:// address.", errors=errors)
    return [{"label": link.label.strip(), "url": link.url.strip()} for link in links]


def _summary(room: RoomView) -> RoomSummary:
    return msgspec.convert(room, RoomSummary, from_attributes=True)


async def creator_rooms(session: AsyncSession, host_id: UUID) -> CreatorRooms:
    """The host's live rooms, upcoming ones soonest first, and the latest past ones."""
    rooms = await host_rooms(session, host_id, limit=HOST_ROOMS, past_limit=PAST_ROOMS)
    return CreatorRooms(
        live=[_summary(r) for r in rooms.live],
        upcoming=[_summary(r) for r in rooms.upcoming],
        past=[_summary(r) for r in rooms.past],
    )


class ProfileService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.posts = PostService(session, clock)

    async def get(self, creator_id: UUID, viewer: CurrentUser | None) -> CreatorOut:
        if not await is_creator(self.session, creator_id):
            raise NotFound("creator_not_found", f"There is no creator {creator_id}.")
        user = await self.session.get(User, creator_id)
        profile = await self.session.scalar(select(CreatorProfile).where(CreatorProfile.user_id == creator_id))
        posts, _ = await self.posts.page(author_id=creator_id, hashtag=None, limit=PROFILE_POSTS, cursor=None)
        follow = await follow_of(self.session, viewer, creator_id)
        return CreatorOut(
            id=creator_id,
            display_name=user.display_name if user else "",
            bio=profile.bio if profile else "",
            follower_count=await follower_count(self.session, creator_id),
            following=follow is not None,
            live_alerts=follow is not None and follow.live_alerts,
            posts=await self.posts.summaries(posts),
            rooms=await creator_rooms(self.session, creator_id),
            showcase=await self.showcase(profile),
            avatar_url=avatar_url(profile),
            links=[StorefrontLink(**link) for link in (profile.links if profile else [])],
        )

    async def showcase(self, profile: CreatorProfile | None) -> list[ProductOut]:
        """The showcased products that still exist, in the creator's order."""
        ids = [UUID(i) for i in (profile.showcase_product_ids if profile else [])]
        found = await products_by_id(self.session, ids)
        return [found[i] for i in ids if i in found]

    async def update(self, user: CurrentUser, data: CreatorPatch) -> CreatorProfile:
        profile = await ensure_profile(self.session, user.id)
        if data.bio is not None:
            profile.bio = data.bio.strip()
        if data.showcase_product_ids is not None:
            wanted: dict[str, UUID | None] = {}
            for ref in data.showcase_product_ids:
                try:
                    wanted[ref] = UUID(ref)
                except ValueError:
                    wanted[ref] = None
            found = await products_by_id(self.session, [p for p in wanted.values() if p])
            missing = [ref for ref, pid in wanted.items() if pid is None or pid not in found]
            if missing:
                raise RuleBroken(
                    "unknown_product",
                    f"These products do not exist: {', '.join(missing)}.",
                    product_ids=missing,
                    errors=[{"field": "showcase_product_ids", "message": f"no product {m}"} for m in missing],
                )
            profile.showcase_product_ids = [str(p) for p in wanted.values()]
        if data.links is not None:
            profile.links = checked_links(data.links)
        await self.session.flush()
        return profile

    async def set_avatar(self, user: CurrentUser, media_dir: Path, data: bytes) -> CreatorProfile:
        """Store the creator's picture, checked by its bytes like product images (PNG, JPEG or WebP, at most 5 MiB)."""
        if not data or len(data) > MAX_IMAGE_BYTES:
            raise RuleBroken(
                "bad_avatar_image",
                f"Upload a picture of at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB.",
                errors=[{"field": "image", "message": "empty" if not data else "too large"}],
            )
        profile = await ensure_profile(self.session, user.id)
        relative = f"avatars/{user.id}-{hashlib.sha256(data).hexdigest()[:16]}.{image_kind(data)}"
        target = media_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        profile.avatar_path = relative
        await self.session.flush()
        return profile
