"""Following creators. Only influencer accounts can be followed, never oneself; following twice is a no-op.

``follower_count`` on the creator's profile moves only when a follow row is really inserted or deleted, with one
conditional UPDATE each time, so concurrent follows and unfollows keep it equal to the number of rows.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from community import timelines
from community.models import CreatorProfile, Follow
from community.schemas import FollowOut
from kernel.auth import CurrentUser, Role
from kernel.auth.models import UserRole
from kernel.clock import Clock
from kernel.errors import NotFound, RuleBroken


async def is_creator(session: AsyncSession, user_id: UUID) -> bool:
    hit = await session.scalar(select(UserRole.id).where(UserRole.user_id == user_id, UserRole.role == Role.INFLUENCER))
    return hit is not None


async def ensure_profile(session: AsyncSession, user_id: UUID) -> CreatorProfile:
    """The creator's profile row, made on first need (in a savepoint, so a concurrent maker just wins)."""
    profile = await session.scalar(select(CreatorProfile).where(CreatorProfile.user_id == user_id))
    if profile is not None:
        return profile
    try:
        async with session.begin_nested():
            session.add(CreatorProfile(user_id=user_id, bio="", showcase_product_ids=[], follower_count=0))
    except IntegrityError:
        pass
    return await session.scalar(select(CreatorProfile).where(CreatorProfile.user_id == user_id))  # type: ignore[return-value]


async def follower_count(session: AsyncSession, creator_id: UUID) -> int:
    count = await session.scalar(select(CreatorProfile.follower_count).where(CreatorProfile.user_id == creator_id))
    return count or 0


async def follow_of(session: AsyncSession, follower: CurrentUser | None, creator_id: UUID) -> Follow | None:
    """The follower's follow of the creator, or None."""
    if follower is None:
        return None
    return await session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.creator_id == creator_id)
    )


class FollowService:
    def __init__(self, session: AsyncSession, clock: Clock) -> None:
        self.session = session
        self.clock = clock

    async def _creator(self, creator_id: UUID) -> None:
        if not await is_creator(self.session, creator_id):
            raise NotFound("creator_not_found", f"There is no creator {creator_id}.")
        await ensure_profile(self.session, creator_id)

    async def follow(self, user: CurrentUser, creator_id: UUID) -> FollowOut:
        if user.id == creator_id:
            raise RuleBroken("follow_self", "You cannot follow yourself.")
        await self._creator(creator_id)
        try:
            async with self.session.begin_nested():
                self.session.add(Follow(follower_id=user.id, creator_id=creator_id, at=self.clock.now()))
        except IntegrityError:
            pass  # already following: nothing changes
        else:
            await self._move(creator_id, +1)
            timelines.followed(self.session, user.id, creator_id)
        found = await follow_of(self.session, user, creator_id)
        return FollowOut(creator_id, True, await follower_count(self.session, creator_id), found.live_alerts)

    async def set_live_alerts(self, user: CurrentUser, creator_id: UUID, on: bool) -> FollowOut:
        """Turn on or off the notification when this followed creator goes live; not following is not found."""
        found = await follow_of(self.session, user, creator_id)
        if found is None:
            raise NotFound("not_following", f"You do not follow creator {creator_id}.")
        found.live_alerts = on
        await self.session.flush()
        return FollowOut(creator_id, True, await follower_count(self.session, creator_id), on)

    async def unfollow(self, user: CurrentUser, creator_id: UUID) -> FollowOut:
        await self._creator(creator_id)
        gone = await self.session.execute(
            delete(Follow).where(Follow.follower_id == user.id, Follow.creator_id == creator_id)
        )
        if gone.rowcount == 1:  # type: ignore[attr-defined]
            await self._move(creator_id, -1)
            timelines.unfollowed(self.session, user.id, creator_id)
        return FollowOut(creator_id, False, await follower_count(self.session, creator_id))

    async def _move(self, creator_id: UUID, by: int) -> None:
        query = (
            update(CreatorProfile)
            .where(CreatorProfile.user_id == creator_id)
            .values(follower_count=CreatorProfile.follower_count + by)
        )
        if by < 0:
            query = query.where(CreatorProfile.follower_count >= -by)
        await self.session.execute(query.execution_options(synchronize_session=False))
