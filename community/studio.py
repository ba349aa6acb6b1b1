"""The creator's studio: their posts and drafts, the post editor with a live preview, and their profile's bio.

The editor is a plain multipart form (it carries the cover picture), so it works without script; with htmx the
body's preview is re-rendered on input (debounced) by the same renderer and sanitiser that saving uses.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from community.follows import ensure_profile
from community.models import Post, PostStatus
from community.posts import PostService, embeds_by_id
from community.profiles import ProfileService
from community.rendering import split_embeds
from community.schemas import CreatorPatch, PostIn, PostPatch
from kernel.auth import Role, requires_role
from kernel.errors import DomainError, RuleBroken
from shop import MAX_IMAGE_BYTES

Posts = NamedDependency[PostService]
FIELDS = ("title", "body", "hashtags")
BIO_MAX = 2000  # CreatorPatch.bio's limit


def _values(form: Any) -> dict[str, str]:
    return {name: str(form.get(name, "")) for name in FIELDS}


def _hashtags(text: str) -> list[str]:
    return [tag for tag in text.replace(",", " ").split() if tag.strip("#")]


def _errors(exc: DomainError) -> dict[str, str]:
    errors = {str(e.get("field", "form")): str(e.get("message", "")) for e in exc.extra.get("errors", [])}
    return {"form": exc.detail, **errors}


def _status(form: Any) -> str:
    return PostStatus.PUBLISHED if form.get("status") == PostStatus.PUBLISHED else PostStatus.DRAFT


async def _cover(form: Any) -> bytes | None:
    upload = form.get("cover")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read()
    return data or None


class StudioPages(Controller):
    path = "/studio"
    guards = [requires_role(Role.INFLUENCER)]

    @get("/posts")
    async def index(
        self, request: Request[Any, Any, Any], posts: Posts, db_session: NamedDependency[AsyncSession]
    ) -> Template:
        mine = await posts.drafts_and_posts_of(request.user.id)
        profile = await ensure_profile(db_session, request.user.id)
        context = {"posts": mine, "bio": profile.bio, "saved": False, "errors": {}}
        return Template("community/studio.html", context=context)

    @post("/bio", status_code=200)
    async def bio(
        self,
        request: Request[Any, Any, Any],
        profiles: NamedDependency[ProfileService],
        posts: Posts,
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        form = await request.form()
        bio = str(form.get("bio", ""))
        try:
            if len(bio) > BIO_MAX:
                too_long = f"At most {BIO_MAX} characters."
                raise RuleBroken("bio_too_long", too_long, errors=[{"field": "bio", "message": too_long}])
            await profiles.update(request.user, CreatorPatch(bio=bio))
        except DomainError as exc:
            await db_session.rollback()
            mine = await posts.drafts_and_posts_of(request.user.id)
            context = {"posts": mine, "bio": bio, "saved": False, "errors": _errors(exc)}
            return Template("community/studio.html", context=context, status_code=exc.status)
        return Redirect("/studio/posts", status_code=303)

    @get("/posts/new")
    async def new(self) -> Template:
        return _editor(None, {"title": "", "body": "", "hashtags": ""}, {})

    @get("/posts/{post_id:uuid}/edit")
    async def edit(self, request: Request[Any, Any, Any], post_id: FromPath[UUID], posts: Posts) -> Template:
        post = await posts.visible(post_id, request.user)
        values = {"title": post.title, "body": post.body, "hashtags": " ".join(f"#{t}" for t in post.hashtags)}
        return _editor(post, values, {})

    @post("/posts", status_code=200, request_max_body_size=MAX_IMAGE_BYTES + 256 * 1024)
    async def create(
        self, request: Request[Any, Any, Any], posts: Posts, db_session: NamedDependency[AsyncSession], state: State
    ) -> Response[Any]:
        form = await request.form()
        values = _values(form)
        try:
            data = PostIn(values["title"].strip(), values["body"], _hashtags(values["hashtags"]), _status(form))
            _check(data.title)
            post = await posts.create(request.user, data)
            if cover := await _cover(form):
                await posts.set_cover(request.user, post.id, state.settings.media_dir, cover)
        except DomainError as exc:
            await db_session.rollback()
            return _editor(None, values, _errors(exc), status_code=exc.status)
        return _after_save(post)

    @post("/posts/{post_id:uuid}", status_code=200, request_max_body_size=MAX_IMAGE_BYTES + 256 * 1024)
    async def update(
        self,
        request: Request[Any, Any, Any],
        post_id: FromPath[UUID],
        posts: Posts,
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> Response[Any]:
        form = await request.form()
        values = _values(form)
        post = await posts.visible(post_id, request.user)
        try:
            _check(values["title"].strip())
            patch = PostPatch(values["title"].strip(), values["body"], _hashtags(values["hashtags"]), _status(form))
            post = await posts.update(request.user, post_id, patch)
            if cover := await _cover(form):
                await posts.set_cover(request.user, post.id, state.settings.media_dir, cover)
        except DomainError as exc:
            await db_session.rollback()
            post = await posts.visible(post_id, request.user)
            return _editor(post, values, _errors(exc), status_code=exc.status)
        return _after_save(post)

    @post("/posts/{post_id:uuid}/delete", status_code=200)
    async def delete(self, request: Request[Any, Any, Any], post_id: FromPath[UUID], posts: Posts) -> Response[Any]:
        await posts.delete(request.user, post_id)
        return Redirect("/studio/posts", status_code=303)

    @post("/posts/preview", status_code=200)
    async def preview(self, request: Request[Any, Any, Any], posts: Posts) -> Template:
        """The body as readers will see it; unknown embeds are named in place of the preview, not saved."""
        form = await request.form()
        body = str(form.get("body", ""))[:50_000]
        try:
            stored_html, product_ids = await posts.render_body(body)
        except RuleBroken as exc:
            return Template("community/partials/_preview.html", context={"error": exc.detail, "pieces": []})
        products = embeds_by_id(await posts.products_by_ids(product_ids))
        context = {"error": None, "pieces": split_embeds(stored_html), "products": products}
        return Template("community/partials/_preview.html", context=context)


def _check(title: str) -> None:
    if not title:
        raise RuleBroken(
            "title_required", "Give the post a title.", errors=[{"field": "title", "message": "Required."}]
        )
    if len(title) > 160:
        raise RuleBroken(
            "title_too_long", "At most 160 characters.", errors=[{"field": "title", "message": "Too long."}]
        )


def _after_save(post: Post) -> Response[Any]:
    if post.status == PostStatus.PUBLISHED:
        return Redirect(f"/posts/{post.id}", status_code=303)
    return Redirect(f"/studio/posts/{post.id}/edit?saved=1", status_code=303)


def _editor(post: Post | None, values: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Template:
    return Template(
        "community/editor.html", context={"post": post, "values": values, "errors": errors}, status_code=status_code
    )


STUDIO_PAGES = [StudioPages]
