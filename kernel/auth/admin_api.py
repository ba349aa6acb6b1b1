"""JSON handlers for admins managing accounts: /api/admin/users."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.admin import AccountStatus, UserAdmin
from kernel.auth.guards import CurrentUser, requires_role
from kernel.auth.models import AccountEvent, Role, User
from kernel.auth.schemas import (
    AccountEventOut,
    AdminUserDetailOut,
    AdminUserOut,
    ReasonIn,
    RolesIn,
    UserListOut,
)
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import problem_spec

Admin = NamedDependency[UserAdmin]
Me = NamedDependency[CurrentUser]
NOT_FOUND = problem_spec("No account has this id")
REFUSED = problem_spec("Breaks a rule: no reason, suspending yourself, or removing the last admin")


def provide_user_admin(db_session: NamedDependency[AsyncSession], state: State) -> UserAdmin:
    return UserAdmin(db_session, state.clock, state.signed_in)


def admin_user_out(user: User) -> AdminUserOut:
    return AdminUserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=sorted(user.roles),
        created_at=user.created_at,
        suspended_at=user.suspended_at,
        suspension_reason=user.suspension_reason,
    )


async def admin_user_detail(users: UserAdmin, user: User) -> AdminUserDetailOut:
    events = await users.history(user.id)
    names = await users.names(e.actor_id for e in events)
    return AdminUserDetailOut(admin_user_out(user), [_event_out(e, names) for e in events])


def _event_out(event: AccountEvent, names: dict[UUID, str]) -> AccountEventOut:
    return AccountEventOut(
        event.action, event.detail, event.reason, event.at, event.actor_id, names.get(event.actor_id, "")
    )


class UserAdminController(Controller):
    path = "/api/admin/users"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]
    dependencies = {"users": Provide(provide_user_admin, sync_to_thread=False)}

    @get("/")
    async def list_users(
        self,
        users: Admin,
        q: FromQuery[str | None] = None,
        status: FromQuery[AccountStatus | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> UserListOut:
        """Accounts by email; ``q`` finds an email or display name containing it, ``status`` active or suspended."""
        found = await users.search((q or "")[:100] or None, status, limit, cursor)
        return UserListOut([admin_user_out(u) for u in found.users], found.next_cursor)

    @get("/{user_id:uuid}", responses={404: NOT_FOUND})
    async def get_user(self, users: Admin, user_id: FromPath[UUID]) -> AdminUserDetailOut:
        """An account with what admins did to it, newest first."""
        return await admin_user_detail(users, await users.get(user_id))

    @put("/{user_id:uuid}/roles", responses={404: NOT_FOUND, 422: REFUSED})
    async def set_roles(
        self, users: Admin, current_user: Me, user_id: FromPath[UUID], data: JSONBody[RolesIn]
    ) -> AdminUserOut:
        """Give the account exactly these roles (buyer always stays)."""
        return admin_user_out(await users.set_roles(current_user.id, user_id, data.roles, data.reason))

    @post("/{user_id:uuid}/suspend", status_code=200, responses={404: NOT_FOUND, 422: REFUSED})
    async def suspend(
        self, users: Admin, current_user: Me, user_id: FromPath[UUID], data: JSONBody[ReasonIn]
    ) -> AdminUserOut:
        """Suspend the account: its sessions and tokens stop working at once and it cannot sign in."""
        return admin_user_out(await users.suspend(current_user.id, user_id, data.reason))

    @post("/{user_id:uuid}/reinstate", status_code=200, responses={404: NOT_FOUND, 422: REFUSED})
    async def reinstate(
        self, users: Admin, current_user: Me, user_id: FromPath[UUID], data: JSONBody[ReasonIn]
    ) -> AdminUserOut:
        """Lift the suspension; the owner signs in again."""
        return admin_user_out(await users.reinstate(current_user.id, user_id, data.reason))
