"""The admin console's account pages: find an account, change its roles, suspend or reinstate it.

Plain HTML forms (a 303 back to the account's page); a refused action renders the page again with the message
beside the field, with the status the JSON API would answer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.admin import AccountStatus, UserAdmin
from kernel.auth.admin_api import admin_user_detail, provide_user_admin
from kernel.auth.guards import requires_role
from kernel.auth.models import Role
from kernel.errors import DomainError, RuleBroken

Admin = NamedDependency[UserAdmin]
Db = NamedDependency[AsyncSession]
PAGE_SIZE = 25


def _errors(exc: DomainError) -> dict[str, str]:
    return {"form": exc.detail, **{str(e["field"]): str(e["message"]) for e in exc.extra.get("errors", [])}}


def _roles(values: list[str]) -> list[Role]:
    try:
        return [Role(value) for value in values]
    except ValueError:
        raise RuleBroken(
            "invalid_form", "Choose roles from the list.", errors=[{"field": "roles", "message": "Unknown role."}]
        ) from None


class UserAdminPages(Controller):
    path = "/admin/users"
    guards = [requires_role(Role.ADMIN)]
    dependencies = {"users": Provide(provide_user_admin, sync_to_thread=False)}

    @get("/")
    async def index(
        self,
        users: Admin,
        q: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        q = (q or "").strip()[:100]
        chosen = next((s for s in AccountStatus if s == status), None)  # "" (any status) or unknown: no filter
        found = await users.search(q or None, chosen, PAGE_SIZE, cursor)
        query = {k: v for k, v in (("q", q), ("status", chosen or "")) if v}
        context = {"users": found.users, "q": q, "status": chosen or "", "statuses": list(AccountStatus)}
        return Template("auth/admin_users.html", context={**context, "query": query, "next_cursor": found.next_cursor})

    async def _page(
        self, request: Request[Any, Any, Any], users: UserAdmin, user_id: UUID, status: int = 200, **failed: Any
    ) -> Template:
        detail = await admin_user_detail(users, await users.get(user_id))
        context = {"detail": detail, "all_roles": list(Role), "me": request.user, "failed": failed or None}
        return Template("auth/admin_user.html", context=context, status_code=status)

    @get("/{user_id:uuid}")
    async def user(self, request: Request[Any, Any, Any], users: Admin, user_id: FromPath[UUID]) -> Template:
        return await self._page(request, users, user_id)

    async def _act(
        self, request: Request[Any, Any, Any], users: UserAdmin, session: AsyncSession, user_id: UUID, action: str
    ) -> Response[Any]:
        form = await request.form()
        reason = str(form.get("reason", ""))[:300]
        actor = request.user.id
        try:
            if action == "roles":
                await users.set_roles(actor, user_id, _roles(form.getall("roles", [])), reason)
            elif action == "suspend":
                await users.suspend(actor, user_id, reason)
            else:
                await users.reinstate(actor, user_id, reason)
        except DomainError as exc:
            await session.rollback()
            if exc.status == 404:
                raise
            return await self._page(
                request, users, user_id, exc.status, action=action, errors=_errors(exc), values={"reason": reason}
            )
        return Redirect(f"/admin/users/{user_id}?done={action}", status_code=303)

    @post("/{user_id:uuid}/roles", status_code=200)
    async def roles(
        self, request: Request[Any, Any, Any], users: Admin, db_session: Db, user_id: FromPath[UUID]
    ) -> Response[Any]:
        return await self._act(request, users, db_session, user_id, "roles")

    @post("/{user_id:uuid}/suspend", status_code=200)
    async def suspend(
        self, request: Request[Any, Any, Any], users: Admin, db_session: Db, user_id: FromPath[UUID]
    ) -> Response[Any]:
        return await self._act(request, users, db_session, user_id, "suspend")

    @post("/{user_id:uuid}/reinstate", status_code=200)
    async def reinstate(
        self, request: Request[Any, Any, Any], users: Admin, db_session: Db, user_id: FromPath[UUID]
    ) -> Response[Any]:
        return await self._act(request, users, db_session, user_id, "reinstate")
