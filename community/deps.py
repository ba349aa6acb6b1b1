"""Dependency providers: each request's community services share its database session."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from community.engagement import CommentLimiter, EngagementService
from community.follows import FollowService
from community.posts import PostService
from community.profiles import ProfileService

COMMENT_STORE = "community_comments"


def provide_posts(db_session: NamedDependency[AsyncSession], state: State) -> PostService:
    return PostService(db_session, state.clock)


def provide_engagement(db_session: NamedDependency[AsyncSession], state: State) -> EngagementService:
    return EngagementService(db_session, state.clock)


def provide_follows(db_session: NamedDependency[AsyncSession], state: State) -> FollowService:
    return FollowService(db_session, state.clock)


def provide_profiles(db_session: NamedDependency[AsyncSession], state: State) -> ProfileService:
    return ProfileService(db_session, state.clock)


def provide_comment_limiter(request: Request, state: State) -> CommentLimiter:  # type: ignore[type-arg]
    return CommentLimiter(request.app.stores.get(COMMENT_STORE), state.clock, state.settings.community)


COMMUNITY_DEPENDENCIES = {
    "posts": Provide(provide_posts, sync_to_thread=False),
    "engagement": Provide(provide_engagement, sync_to_thread=False),
    "follows": Provide(provide_follows, sync_to_thread=False),
    "profiles": Provide(provide_profiles, sync_to_thread=False),
    "comment_limiter": Provide(provide_comment_limiter, sync_to_thread=False),
}
