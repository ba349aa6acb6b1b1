"""The creator's storefront editor (/studio/storefront): bio, picture, external links and showcased products, as
the public profile (/creators/{id}) shows them, and the product picker the studio's pages share.

Plain forms: a 303 back to the page, or the page again (4xx) with each mistake beside its field.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from community.profiles import ProfileService
from community.schemas import CreatorOut, CreatorPatch
from community.studio import _errors as form_errors
from kernel.auth import Role, requires_role
from kernel.errors import DomainError, RuleBroken
from shop import MAX_IMAGE_BYTES, find_products

Profiles = NamedDependency[ProfileService]
Db = NamedDependency[AsyncSession]
LINK_ROWS = 5
MAX_SHOWCASE = 12
PICKS = 8
Pick = Literal["embed", "showcase", "link"]


_LENGTH = re.compile(r"Expected `str` of length ([<>])= (\d+)")


def _patch(data: dict[str, Any]) -> CreatorPatch:
    """A form's fields as the CreatorPatch the JSON API takes, its limits checked as the API checks them."""
    try:
        return msgspec.convert(data, CreatorPatch)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$.")
        if found := _LENGTH.search(message):
            message = f"At {'most' if found.group(1) == '<' else 'least'} {found.group(2)} characters."
        field = where.rstrip("`") or "form"
        raise RuleBroken("invalid_form", message, errors=[{"field": field, "message": message}]) from None


def _link_values(form: Any) -> list[dict[str, str]]:
    rows = [
        {"label": str(form.get(f"links[{i}].label", "")).strip(), "url": str(form.get(f"links[{i}].url", "")).strip()}
        for i in range(LINK_ROWS)
    ]
    return [row for row in rows if row["label"] or row["url"]]


class StorefrontPages(Controller):
    path = "/studio"
    guards = [requires_role(Role.INFLUENCER)]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        profiles: ProfileService,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> Template:
        creator: CreatorOut = await profiles.get(request.user.id, request.user)
        shown = values or {"bio": creator.bio, "links": [{"label": x.label, "url": x.url} for x in creator.links]}
        links = shown["links"] + [{"label": "", "url": ""}] * (LINK_ROWS - len(shown["links"]))
        return Template(
            "community/storefront.html",
            context={"creator": creator, "bio": shown["bio"], "links": links, "errors": errors or {}},
            status_code=status_code,
        )

    @get("/storefront")
    async def storefront(self, request: Request[Any, Any, Any], profiles: Profiles) -> Template:
        return await self._page(request, profiles)

    @post("/storefront", status_code=200)
    async def save(self, request: Request[Any, Any, Any], profiles: Profiles, db_session: Db) -> Response[Any]:
        """The bio and the links (blank rows are dropped)."""
        form = await request.form()
        values = {"bio": str(form.get("bio", "")), "links": _link_values(form)}
        try:
            await profiles.update(request.user, _patch(values))
        except DomainError as exc:
            await db_session.rollback()
            return await self._page(request, profiles, exc.status, form_errors(exc), values)
        return Redirect("/studio/storefront?saved=1", status_code=303)

    @post("/storefront/avatar", status_code=200, request_max_body_size=MAX_IMAGE_BYTES + 64 * 1024)
    async def avatar(
        self, request: Request[Any, Any, Any], profiles: Profiles, db_session: Db, state: State
    ) -> Response[Any]:
        form = await request.form()
        upload = form.get("image")
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            await profiles.set_avatar(request.user, state.settings.media_dir, data)
        except DomainError as exc:
            await db_session.rollback()
            return await self._page(request, profiles, exc.status, form_errors(exc))
        return Redirect("/studio/storefront?saved=1#picture", status_code=303)

    @post("/storefront/showcase", status_code=200)
    async def feature(self, request: Request[Any, Any, Any], profiles: Profiles, db_session: Db) -> Response[Any]:
        """Add a product (``product_id``) to the end of the showcase."""
        form = await request.form()
        wanted = str(form.get("product_id", "")).strip()
        current = [str(p.id) for p in (await profiles.get(request.user.id, request.user)).showcase]
        try:
            if wanted not in current and len(current) >= MAX_SHOWCASE:
                raise RuleBroken(
                    "showcase_full",
                    f"A showcase holds {MAX_SHOWCASE} products: remove one first.",
                    errors=[{"field": "showcase_product_ids", "message": f"At most {MAX_SHOWCASE} products."}],
                )
            ids = current if wanted in current else [*current, wanted]
            await profiles.update(request.user, _patch({"showcase_product_ids": ids}))
        except DomainError as exc:
            await db_session.rollback()
            return await self._page(request, profiles, exc.status, form_errors(exc))
        return Redirect("/studio/storefront#showcase", status_code=303)

    @post("/storefront/showcase/{product_id:uuid}/remove", status_code=200)
    async def unfeature(
        self, request: Request[Any, Any, Any], product_id: FromPath[UUID], profiles: Profiles
    ) -> Response[Any]:
        current = [str(p.id) for p in (await profiles.get(request.user.id, request.user)).showcase]
        kept = [pid for pid in current if pid != str(product_id)]
        await profiles.update(request.user, CreatorPatch(showcase_product_ids=kept))
        return Redirect("/studio/storefront#showcase", status_code=303)

    @get("/products/picks")
    async def picks(self, db_session: Db, q: FromQuery[str] = "", pick: FromQuery[Pick] = "embed") -> Template:
        """Products matching ``q`` for a studio picker: to embed in a post, feature in the showcase, or link to."""
        products = await find_products(db_session, q, PICKS) if q.strip() else []
        return Template(
            "community/partials/_product_picks.html", context={"products": products, "pick": pick, "q": q.strip()}
        )


STOREFRONT_PAGES = [StorefrontPages]
