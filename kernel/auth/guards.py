"""Who is asking: the authentication middleware, guards and the ``current_user`` dependency."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Guard

from kernel.auth.cache import SignedInCache
from kernel.auth.models import Role, User
from kernel.auth.service import AccountService, hash_token
from kernel.security import SESSION_COOKIE


class CurrentUser(msgspec.Struct, frozen=True):
    """The signed-in account as handlers see it (a plain value, detached from any database session)."""

    id: UUID
    email: str
    display_name: str
    roles: frozenset[Role]

    @classmethod
    def of(cls, user: User) -> CurrentUser:
        return cls(user.id, user.email, user.display_name, frozenset(user.roles))

    def has(self, role: Role) -> bool:
        return role in self.roles


def _presented_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The bearer token when the request names bearer auth, else the session cookie.

    A request that names bearer auth is authenticated by the bearer alone: an empty one is no credential, and it
    never falls back to the cookie (the CSRF check, skipped for bearer requests, would not guard that cookie).
    """
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    return connection.cookies.get(SESSION_COOKIE)


class TokenAuthenticationMiddleware(AbstractAuthenticationMiddleware):
    """Resolve a bearer token or session cookie to a user; without a valid one the request is anonymous.

    A token seen recently on this worker is answered from its cache (kernel/auth/cache.py), without the database.
    """

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = _presented_token(connection)
        if not token:
            return AuthenticationResult(user=None, auth=None)
        token_hash = hash_token(token)
        state = connection.app.state
        signed_in: SignedInCache = state.signed_in
        if (cached := signed_in.get(token_hash)) is not None:
            return AuthenticationResult(user=cached, auth=token_hash)
        async with state.db.sessionmaker() as session:
            found = await AccountService(session, state.clock, state.settings.auth.session_ttl).user_for_token(token)
            if found is None:
                return AuthenticationResult(user=None, auth=None)
            user, expires_at = CurrentUser.of(found[0]), found[1]
        signed_in.put(token_hash, user, expires_at)
        return AuthenticationResult(user=user, auth=token_hash)


def requires_signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.user is None:
        raise NotAuthorizedException("Sign in first: POST /api/auth/login, then send the token or cookie.")


def requires_role(*roles: Role) -> Guard:
    """A guard admitting accounts that hold any of ``roles``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        requires_signed_in(connection, handler)
        if not connection.user.roles.intersection(roles):
            raise PermissionDeniedException(f"This needs a {' or '.join(roles)} account.")

    return guard


async def provide_current_user(request: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    if request.user is None:
        raise NotAuthorizedException("Sign in first: POST /api/auth/login, then send the token or cookie.")
    return request.user
