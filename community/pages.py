"""HTML pages and htmx fragments of the community: the post page with live product cards, likes and comments,
the creator profile with its follow button, and the leaderboard. The post editor is in community.studio.

Product cards are filled into a post at view time, and the open page polls one fragment every few seconds that
swaps every card's price and stock out of band, so they stay current. Opening a product from a card goes through
``/posts/{id}/products/{pid}``, which records the click for attribution (with a visitor cookie for readers who are
not signed in) and leads to the product with the post as its source; the card's Buy now and Add to cart carry the
post as the source too.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from community.engagement import CommentLimiter, EngagementService
from community.follows import FollowService
from community.leaderboard import LEVELS, SCORING, Period, leaderboard
from community.models import Post, PostStatus
from community.posts import PostService, embeds_by_id
from community.profiles import ProfileService
from community.rendering import split_embeds
from community.schemas import PostOut
from community.storefront import STOREFRONT_PAGES
from community.studio import STUDIO_PAGES
from kernel.auth import CurrentUser, Role, requires_signed_in
from kernel.errors import DomainError
from kernel.web import visitor
from shop import TouchKind


def viewer(request: Request[Any, Any, Any]) -> CurrentUser | None:
    return request.user


class PostPages(Controller):
    path = "/posts"

    @get("/{post_id:uuid}")
    async def post_page(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[UUID],
        posts: NamedDependency[PostService],
        engagement: NamedDependency[EngagementService],
        state: State,
    ) -> Template:
        """The post; a reader other than its author opening a published post is a view touch for attribution."""
        user = viewer(request)
        post = await posts.visible(post_id, user)
        out = await posts.out(post, user)
        cookies: list[Cookie] = []
        if post.status == PostStatus.PUBLISHED and (user is None or user.id != out.author.id):
            visitor_id, cookies = visitor(request)
            state.touches.record(
                TouchKind.VIEW,
                post_id=post.id,
                creator_id=post.author_id,
                user_id=user.id if user else None,
                visitor_id=visitor_id,
            )
        return await _post_page(post, out, user, engagement, cookies=cookies)

    @get("/{post_id:uuid}/cards")
    async def cards(
        self, request: Request[Any, Any, Any], post_id: FromPath[UUID], posts: NamedDependency[PostService]
    ) -> Template:
        """The live part (price, stock) of every embedded product, as out-of-band swaps: one poll per open post."""
        post = await posts.visible(post_id, viewer(request))
        return Template("community/partials/_post_cards_live.html", context={"products": await posts.products(post)})

    @get("/{post_id:uuid}/products/{product_id:uuid}")
    async def open_product(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[UUID],
        product_id: FromPath[UUID],
        posts: NamedDependency[PostService],
        state: State,
        buy: FromQuery[bool] = False,
    ) -> Response[Any]:
        """A click on an embedded card: record the touch, then show the product with the post as its source, or with
        ``?buy=true`` (the card's Buy now under htmx, which follows the redirect) shop's quick-buy form for it."""
        user = viewer(request)
        post = await posts.visible(post_id, user)
        cookies: list[Cookie] = []
        if any(p.id == product_id for p in await posts.products(post)):
            visitor_id, cookies = visitor(request)
            state.touches.record(
                TouchKind.CLICK,
                post_id=post.id,
                creator_id=post.author_id,
                product_id=product_id,
                user_id=user.id if user else None,
                visitor_id=visitor_id,
            )
        target = f"/shop/products/{product_id}/buy" if buy else f"/shop/products/{product_id}"
        return Redirect(f"{target}?post_id={post.id}", cookies=cookies)

    @post("/{post_id:uuid}/like", guards=[requires_signed_in], status_code=200)
    async def toggle_like(
        self,
        request: HTMXRequest,
        post_id: FromPath[UUID],
        engagement: NamedDependency[EngagementService],
    ) -> Response[Any]:
        form = await request.form()
        user = request.user
        if form.get("liked") == "true":
            result = await engagement.unlike(user, post_id)
        else:
            result = await engagement.like(user, post_id)
        if not request.htmx:
            return Redirect(f"/posts/{post_id}", status_code=303)
        return Template("community/partials/_like_button.html", context={"post_id": post_id, "like": result})

    @post("/{post_id:uuid}/comments", guards=[requires_signed_in], status_code=200)
    async def add_comment(
        self,
        request: HTMXRequest,
        post_id: FromPath[UUID],
        engagement: NamedDependency[EngagementService],
        comment_limiter: NamedDependency[CommentLimiter],
        posts: NamedDependency[PostService],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        text = str(form.get("text", ""))
        try:
            comment = await engagement.comment(request.user, post_id, text[:1000], comment_limiter)
        except DomainError as exc:
            await db_session.rollback()
            failed = {"error": exc.detail, "text": text}
            if request.htmx:
                context = {"post_id": post_id, "failed": failed}
                return Template("community/partials/_comment_form.html", context=context, status_code=exc.status)
            post = await posts.visible(post_id, request.user)
            out = await posts.out(post, request.user)
            return await _post_page(post, out, request.user, engagement, exc.status, failed=failed)
        if not request.htmx:
            return Redirect(f"/posts/{post_id}#comment-{comment.id}", status_code=303)
        post = await posts.visible(post_id, request.user)
        return Template(
            "community/partials/_comment_added.html",
            context={
                "c": comment,
                "post_id": post_id,
                "can_moderate": _moderates(request.user, post.author_id),
                "comment_count": post.comment_count,
            },
        )


async def _post_page(
    post: Post,
    out: PostOut,
    user: CurrentUser | None,
    engagement: EngagementService,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    failed: dict[str, str] | None = None,
) -> Template:
    """The post page; ``failed`` is a refused comment, shown again in its form with the reason."""
    comments, more = await engagement.comments(post.id, user, 100, None)
    return Template(
        "community/post.html",
        context={
            "post": out,
            "pieces": split_embeds(post.html),
            "products": embeds_by_id(out.products),
            "comments": comments,
            "more_comments": more,
            "published": post.status == PostStatus.PUBLISHED,
            "can_moderate": _moderates(user, out.author.id),
            "failed": failed,
        },
        status_code=status_code,
        cookies=cookies or [],
    )


def _moderates(user: CurrentUser | None, author_id: UUID) -> bool:
    return user is not None and (user.id == author_id or user.has(Role.ADMIN))


class CommentPages(Controller):
    path = "/comments"
    guards = [requires_signed_in]

    @post("/{comment_id:uuid}/delete", status_code=200)
    async def delete_comment(
        self,
        request: HTMXRequest,
        comment_id: FromPath[UUID],
        engagement: NamedDependency[EngagementService],
    ) -> Response[Any]:
        """Remove a comment; htmx swaps the comment out with this empty answer."""
        await engagement.delete_comment(request.user, comment_id)
        if not request.htmx:
            return Redirect(request.headers.get("referer", "/"), status_code=303)
        return Response("", status_code=200, media_type="text/html")


class CreatorPages(Controller):
    path = "/creators"

    @get("/{creator_id:uuid}")
    async def profile(
        self,
        request: Request[Any, Any, Any],
        creator_id: FromPath[UUID],
        profiles: NamedDependency[ProfileService],
    ) -> Template:
        creator = await profiles.get(creator_id, viewer(request))
        return Template("community/creator.html", context={"creator": creator})

    @post("/{creator_id:uuid}/follow", guards=[requires_signed_in], status_code=200)
    async def toggle_follow(
        self,
        request: HTMXRequest,
        creator_id: FromPath[UUID],
        follows: NamedDependency[FollowService],
    ) -> Response[Any]:
        form = await request.form()
        if form.get("following") == "true":
            result = await follows.unfollow(request.user, creator_id)
        else:
            result = await follows.follow(request.user, creator_id)
        if not request.htmx:
            return Redirect(f"/creators/{creator_id}", status_code=303)
        return Template("community/partials/_follow_button.html", context={"follow": result})

    @post("/{creator_id:uuid}/live-alerts", guards=[requires_signed_in], status_code=200)
    async def live_alerts(
        self,
        request: HTMXRequest,
        creator_id: FromPath[UUID],
        follows: NamedDependency[FollowService],
    ) -> Response[Any]:
        """Turn on (``live_alerts=on``) or off the go-live notification for a creator one follows."""
        form = await request.form()
        result = await follows.set_live_alerts(request.user, creator_id, form.get("live_alerts") == "on")
        if not request.htmx:
            return Redirect(f"/creators/{creator_id}", status_code=303)
        return Template("community/partials/_follow_button.html", context={"follow": result})


@get("/leaderboard")
async def leaderboard_page(
    request: HTMXRequest, db_session: NamedDependency[AsyncSession], state: State, period: FromQuery[Period] = "week"
) -> Template:
    """The week's or month's ranking; the tabs swap just the table and keep the address bar in step."""
    board = await leaderboard(db_session, period, state.clock.now(), state.settings.shop.currency)
    context = {"board": board, "levels": LEVELS, "scoring": SCORING}
    if request.htmx:
        return HTMXTemplate(
            template_name="community/partials/_leaderboard.html",
            context=context,
            push_url=f"/leaderboard?period={period}",
        )
    return Template("community/leaderboard.html", context=context)


COMMUNITY_PAGES = [PostPages, CommentPages, CreatorPages, leaderboard_page, *STUDIO_PAGES, *STOREFRONT_PAGES]
