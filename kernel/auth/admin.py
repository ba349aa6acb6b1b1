"""Accounts as admins manage them: find, change roles, suspend and reinstate, each action with an audit row.

Suspending revokes every token of the account, tells every worker's sign-in cache to forget it, and
``user_for_token`` refuses suspended accounts, so its open browsers and API clients are signed out on their next
request; the caches forget a role change too, so it applies on the next request. Two rules keep the platform
manageable: an admin never suspends themself, and the last active admin keeps the role. Free of HTTP; raises
DomainErrors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.cache import Revoked, SignedInCache
from kernel.auth.models import AccountAction, AccountEvent, AuthToken, Role, User, UserRole
from kernel.clock import Clock
from kernel.errors import NotFound, RuleBroken
from kernel.pagination import decode_cursor, encode_cursor


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    next_cursor: str | None


def _checked_reason(reason: str) -> str:
    """Every admin action says why; the audit trail is only as good as its reasons."""
    reason = reason.strip()
    if not reason:
        raise _refuse("reason", "reason_required", "Say why; it is kept with the account's history.")
    return reason


def _refuse(field: str, code: str, message: str) -> RuleBroken:
    return RuleBroken(code, message, errors=[{"field": field, "message": message}])


class UserAdmin:
    def __init__(self, session: AsyncSession, clock: Clock, signed_in: SignedInCache | None = None) -> None:
        self.session = session
        self.clock = clock
        self.signed_in = signed_in  # the workers' caches of who tokens belong to, told of every change below

    async def search(
        self, q: str | None = None, status: AccountStatus | None = None, limit: int = 20, cursor: str | None = None
    ) -> UserPage:
        """Accounts whose email or display name contains ``q``, by email; ``cursor`` continues after one."""
        query = select(User).order_by(User.email).limit(limit + 1)
        if status is not None:
            suspended = User.suspended_at.is_not(None)
            query = query.where(suspended if status == AccountStatus.SUSPENDED else ~suspended)
        if q:
            needle = q.strip().lower()  # emails are stored lowercased
            query = query.where(
                or_(
                    User.email.contains(needle, autoescape=True),
                    func.lower(User.display_name).contains(needle, autoescape=True),
                )
            )
        if cursor:
            (after,) = decode_cursor(cursor, str)
            query = query.where(User.email > after)
        users = list(await self.session.scalars(query))
        more = len(users) > limit
        users = users[:limit]
        return UserPage(users, encode_cursor(users[-1].email) if more and users else None)

    async def get(self, user_id: UUID) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise NotFound("user_not_found", "No account has this id.")
        return user

    async def history(self, user_id: UUID, limit: int = 50) -> list[AccountEvent]:
        """What admins did to the account, newest first."""
        return list(
            await self.session.scalars(
                select(AccountEvent)
                .where(AccountEvent.user_id == user_id)
                .order_by(AccountEvent.at.desc(), AccountEvent.id.desc())
                .limit(limit)
            )
        )

    async def names(self, user_ids: Iterable[UUID]) -> dict[UUID, str]:
        """Display names by id, for showing who did what."""
        ids = list(set(user_ids))
        if not ids:
            return {}
        rows = await self.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
        return {user_id: name for user_id, name in rows}

    async def set_roles(self, actor_id: UUID, user_id: UUID, roles: Iterable[Role], reason: str) -> User:
        """Give the account exactly ``roles`` (buyer always stays)."""
        reason = _checked_reason(reason)
        user = await self.get(user_id)
        wanted = set(roles) | {Role.BUYER}
        had = set(user.roles)
        if Role.ADMIN in had and Role.ADMIN not in wanted:
            await self._keep_an_admin(user_id, "roles")
        granted, revoked = sorted(wanted - had), sorted(had - wanted)
        if not granted and not revoked:
            return user
        user.role_rows = [row for row in user.role_rows if row.role in wanted] + [
            UserRole(role=str(role)) for role in granted
        ]
        detail = ", ".join([*(f"+{r}" for r in granted), *(f"-{r}" for r in revoked)])
        await self._audit(actor_id, user, AccountAction.ROLES, reason, detail)
        self._forget_sign_ins(user_id)  # cached sign-ins carry the old roles
        return user

    async def suspend(self, actor_id: UUID, user_id: UUID, reason: str) -> User:
        """Suspend the account and end its sessions and tokens now."""
        reason = _checked_reason(reason)
        if actor_id == user_id:
            raise _refuse("reason", "cannot_suspend_self", "You cannot suspend your own account.")
        user = await self.get(user_id)
        if user.suspended_at is not None:
            return user
        if Role.ADMIN in user.roles:
            await self._keep_an_admin(user_id, "reason")
        now = self.clock.now()
        user.suspended_at, user.suspension_reason = now, reason
        await self.session.execute(
            update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None)).values(revoked_at=now)
        )
        await self._audit(actor_id, user, AccountAction.SUSPEND, reason)
        self._forget_sign_ins(user_id)
        return user

    async def reinstate(self, actor_id: UUID, user_id: UUID, reason: str) -> User:
        """Lift a suspension; the owner signs in again (the old sessions stay ended)."""
        reason = _checked_reason(reason)
        user = await self.get(user_id)
        if user.suspended_at is None:
            return user
        user.suspended_at, user.suspension_reason = None, None
        await self._audit(actor_id, user, AccountAction.REINSTATE, reason)
        return user

    def _forget_sign_ins(self, user_id: UUID) -> None:
        if self.signed_in is not None:
            self.signed_in.revoke(self.session, Revoked(user_id=user_id))

    async def _keep_an_admin(self, user_id: UUID, field: str) -> None:
        others = await self.session.scalar(
            select(func.count())
            .select_from(UserRole)
            .join(User, User.id == UserRole.user_id)
            .where(UserRole.role == Role.ADMIN, UserRole.user_id != user_id, User.suspended_at.is_(None))
        )
        if not others:
            raise _refuse(field, "last_admin", "This is the last active admin; make another admin first.")

    async def _audit(self, actor_id: UUID, user: User, action: AccountAction, reason: str, detail: str = "") -> None:
        self.session.add(
            AccountEvent(
                user_id=user.id, actor_id=actor_id, action=action, detail=detail, reason=reason, at=self.clock.now()
            )
        )
        await self.session.flush()
