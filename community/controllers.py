"""JSON handlers under /api/community: posts, likes, comments, follows, creator profiles, the leaderboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from sqlalchemy.ext.asyncio import AsyncSession

from community.engagement import CommentLimiter, EngagementService
from community.follows import FollowService
from community.leaderboard import Period, leaderboard
from community.posts import PostService
from community.profiles import ProfileService
from community.schemas import (
    CommentIn,
    CommentOut,
    CommentPage,
    CreatorOut,
    CreatorPatch,
    FollowOut,
    FollowPatch,
    LeaderboardOut,
    LikeOut,
    PostIn,
    PostOut,
    PostPage,
    PostPatch,
)
from kernel.auth import CurrentUser, Role, requires_role, requires_signed_in
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import not_found_when_malformed, problem_spec
from shop import MAX_IMAGE_BYTES

Posts = NamedDependency[PostService]
Engagement = NamedDependency[EngagementService]
Me = NamedDependency[CurrentUser]
NOT_FOUND = problem_spec("Not found (drafts are visible to their author only)")
FORBIDDEN = problem_spec("Not yours to change")
UNKNOWN_PRODUCT = problem_spec("An embedded product does not exist (named in product_ids), or invalid input")


def viewer(request: Request[Any, Any, Any]) -> CurrentUser | None:
    return request.user


@dataclass
class ImageUpload:
    image: UploadFile


class PostController(Controller):
    path = "/api/community/posts"
    tags = ["community"]

    @post("/", guards=[requires_role(Role.INFLUENCER)], responses={422: UNKNOWN_PRODUCT})
    async def create(self, data: JSONBody[PostIn], posts: Posts, current_user: Me) -> PostOut:
        """Write a post in Markdown; ``[[product:ID]]`` embeds a shoppable card. ``status`` draft or published."""
        return await posts.out(await posts.create(current_user, data), current_user)

    @get("/")
    async def list_posts(
        self,
        posts: Posts,
        author_id: FromQuery[UUID | None] = None,
        hashtag: FromQuery[str | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> PostPage:
        """Published posts, newest first, optionally by one author or with one hashtag."""
        found, next_cursor = await posts.page(author_id=author_id, hashtag=hashtag, limit=limit, cursor=cursor)
        return PostPage(await posts.summaries(found), next_cursor)

    @get("/{post_id:uuid}", responses={404: NOT_FOUND})
    async def get_post(self, request: Request[Any, Any, Any], post_id: FromPath[UUID], posts: Posts) -> PostOut:
        """A post with its HTML and its embedded products as they are now."""
        user = viewer(request)
        return await posts.out(await posts.visible(post_id, user), user)

    @patch(
        "/{post_id:uuid}",
        guards=[requires_signed_in],
        responses={403: FORBIDDEN, 404: NOT_FOUND, 422: UNKNOWN_PRODUCT},
    )
    async def update(
        self, post_id: FromPath[UUID], data: JSONBody[PostPatch], posts: Posts, current_user: Me
    ) -> PostOut:
        """Edit, publish or unpublish a post (its author only)."""
        post = await posts.update(current_user, post_id, data)
        return await posts.out(post, current_user)

    @delete("/{post_id:uuid}", guards=[requires_signed_in], responses={403: FORBIDDEN, 404: NOT_FOUND})
    async def remove(self, post_id: FromPath[UUID], posts: Posts, current_user: Me) -> None:
        """Delete a post (its author or an admin)."""
        await posts.delete(current_user, post_id)

    @post(
        "/{post_id:uuid}/cover",
        guards=[requires_signed_in],
        status_code=200,
        request_max_body_size=MAX_IMAGE_BYTES + 64 * 1024,
        responses={403: FORBIDDEN, 404: NOT_FOUND, 422: problem_spec("Not a PNG, JPEG or WebP image")},
    )
    async def cover(
        self, post_id: FromPath[UUID], data: MultipartBody[ImageUpload], posts: Posts, current_user: Me, state: State
    ) -> PostOut:
        """Set the cover picture (multipart field ``image``: PNG, JPEG or WebP, at most 5 MiB)."""
        content = await data.image.read()
        post = await posts.set_cover(current_user, post_id, state.settings.media_dir, content)
        return await posts.out(post, current_user)

    @post("/{post_id:uuid}/likes", guards=[requires_signed_in], status_code=200, responses={404: NOT_FOUND})
    async def like(self, post_id: FromPath[UUID], engagement: Engagement, current_user: Me) -> LikeOut:
        """Like a published post (liking twice counts once)."""
        return await engagement.like(current_user, post_id)

    @delete("/{post_id:uuid}/likes", guards=[requires_signed_in], status_code=200, responses={404: NOT_FOUND})
    async def unlike(self, post_id: FromPath[UUID], engagement: Engagement, current_user: Me) -> LikeOut:
        return await engagement.unlike(current_user, post_id)

    @get("/{post_id:uuid}/comments", responses={404: NOT_FOUND})
    async def comments(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[UUID],
        engagement: Engagement,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> CommentPage:
        """Comments, oldest first. ``text`` is plain text: escape it when showing it."""
        items, next_cursor = await engagement.comments(post_id, viewer(request), limit, cursor)
        return CommentPage(items, next_cursor)

    @post(
        "/{post_id:uuid}/comments",
        guards=[requires_signed_in],
        responses={404: NOT_FOUND, 429: problem_spec("Too many comments in a short time")},
    )
    async def add_comment(
        self,
        post_id: FromPath[UUID],
        data: JSONBody[CommentIn],
        engagement: Engagement,
        comment_limiter: NamedDependency[CommentLimiter],
        current_user: Me,
    ) -> CommentOut:
        """Comment on a published post (plain text, at most 1,000 characters, rate-limited per user)."""
        return await engagement.comment(current_user, post_id, data.text, comment_limiter)


class CommunityController(Controller):
    path = "/api/community"
    tags = ["community"]

    @delete("/comments/{comment_id:uuid}", guards=[requires_signed_in], responses={403: FORBIDDEN, 404: NOT_FOUND})
    async def delete_comment(self, comment_id: FromPath[UUID], engagement: Engagement, current_user: Me) -> None:
        """Remove a comment: its author, the post's author or an admin."""
        await engagement.delete_comment(current_user, comment_id)

    @post(
        "/creators/{creator_id:uuid}/follow", guards=[requires_signed_in], status_code=200, responses={404: NOT_FOUND}
    )
    async def follow(
        self, creator_id: FromPath[UUID], follows: NamedDependency[FollowService], current_user: Me
    ) -> FollowOut:
        """Follow a creator (following twice changes nothing; you cannot follow yourself)."""
        return await follows.follow(current_user, creator_id)

    @delete(
        "/creators/{creator_id:uuid}/follow", guards=[requires_signed_in], status_code=200, responses={404: NOT_FOUND}
    )
    async def unfollow(
        self, creator_id: FromPath[UUID], follows: NamedDependency[FollowService], current_user: Me
    ) -> FollowOut:
        return await follows.unfollow(current_user, creator_id)

    @patch(
        "/creators/{creator_id:uuid}/follow", guards=[requires_signed_in], status_code=200, responses={404: NOT_FOUND}
    )
    async def change_follow(
        self,
        creator_id: FromPath[UUID],
        data: JSONBody[FollowPatch],
        follows: NamedDependency[FollowService],
        current_user: Me,
    ) -> FollowOut:
        """Turn live alerts (a notification when this followed creator goes live) on or off; 404 when not following."""
        return await follows.set_live_alerts(current_user, creator_id, data.live_alerts)

    @get("/creators/{creator_id:uuid}", responses={404: NOT_FOUND})
    async def creator(
        self, request: Request[Any, Any, Any], creator_id: FromPath[UUID], profiles: NamedDependency[ProfileService]
    ) -> CreatorOut:
        """A creator's bio, follower count, posts, rooms (live, upcoming, past) and showcased products."""
        return await profiles.get(creator_id, viewer(request))

    @patch("/creators/me", guards=[requires_role(Role.INFLUENCER)], responses={422: UNKNOWN_PRODUCT})
    async def update_me(
        self, data: JSONBody[CreatorPatch], profiles: NamedDependency[ProfileService], current_user: Me
    ) -> CreatorOut:
        """Change your bio, the products you showcase and your storefront's links (up to 5, https only)."""
        await profiles.update(current_user, data)
        return await profiles.get(current_user.id, current_user)

    @post(
        "/creators/me/avatar",
        guards=[requires_role(Role.INFLUENCER)],
        status_code=200,
        request_max_body_size=MAX_IMAGE_BYTES + 64 * 1024,
        responses={422: problem_spec("Not a PNG, JPEG or WebP image")},
    )
    async def avatar(
        self,
        data: MultipartBody[ImageUpload],
        profiles: NamedDependency[ProfileService],
        current_user: Me,
        state: State,
    ) -> CreatorOut:
        """Set your storefront picture (multipart field ``image``: PNG, JPEG or WebP, at most 5 MiB)."""
        await profiles.set_avatar(current_user, state.settings.media_dir, await data.image.read())
        return await profiles.get(current_user.id, current_user)

    @get("/leaderboard")
    async def leaderboard(
        self, db_session: NamedDependency[AsyncSession], state: State, period: FromQuery[Period] = "week"
    ) -> LeaderboardOut:
        """Creators ranked by attributed net sales and engagement this week or month (``scoring`` explains)."""
        return await leaderboard(db_session, period, state.clock.now(), state.settings.shop.currency)


COMMUNITY_CONTROLLERS = [PostController, CommunityController]
not_found_when_malformed(COMMUNITY_CONTROLLERS, post_id="post", comment_id="comment", creator_id="creator")
