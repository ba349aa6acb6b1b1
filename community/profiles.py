"""Creator profiles: bio, follower count, posts, rooms (live, upcoming, past) and showcased products."""

from __future__ import annotations

from uuid import UUID

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.follows import ensure_profile, follow_of, follower_count, is_creator
from community.models import CreatorProfile
from community.posts import PostService
from community.schemas import CreatorOut, CreatorPatch, CreatorRooms, RoomSummary
from kernel.auth import CurrentUser
from kernel.auth.models import User
from kernel.clock import Clock
from kernel.errors import NotFound, RuleBroken
from live import RoomView, host_rooms
from shop import ProductOut, products_by_id

PROFILE_POSTS = 20
HOST_ROOMS = 20  # live rooms, and as many upcoming ones
PAST_ROOMS = 10


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
        await self.session.flush()
        return profile
