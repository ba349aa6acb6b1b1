"""Accounts: sign-up, sign-in with expiring tokens, sign-out. Free of HTTP; raises DomainErrors."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from kernel.auth.cache import Revoked, SignedInCache
from kernel.auth.models import SELF_SERVICE_ROLES, AuthToken, Role, User, UserRole
from kernel.auth.passwords import Passwords
from kernel.clock import Clock
from kernel.errors import Conflict, Forbidden, RuleBroken, Unauthorized


@dataclass(frozen=True)
class SignedIn:
    token: str
    expires_at: datetime
    user: User


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


class AccountService:
    def __init__(
        self,
        session: AsyncSession,
        clock: Clock,
        session_ttl: timedelta,
        passwords: Passwords | None = None,
        signed_in: SignedInCache | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.session_ttl = session_ttl
        self.passwords = passwords or Passwords()
        self.signed_in = signed_in  # the workers' caches of who tokens belong to, told of every revocation

    async def signup(self, email: str, password: str, display_name: str, roles: Iterable[Role]) -> User:
        """Create an account with self-service roles only (every account may buy)."""
        wanted = set(roles) or {Role.BUYER}
        if privileged := sorted(wanted - SELF_SERVICE_ROLES):
            raise RuleBroken(
                "role_not_self_service",
                f"{', '.join(privileged)} accounts are created by the operator, not at sign-up",
                errors=[{"field": "roles", "message": "choose from buyer, influencer, seller"}],
            )
        return await self.create_user(email, password, display_name, wanted)

    async def create_user(self, email: str, password: str, display_name: str, roles: Iterable[Role]) -> User:
        """Create an account with any roles (the operator's CLI and demo data use this directly)."""
        email = normalise_email(email)
        if await self.session.scalar(select(User.id).where(User.email == email)):
            raise Conflict(
                "email_taken",
                "An account with this email exists; sign in instead.",
                errors=[{"field": "email", "message": "already registered"}],
            )
        user = User(
            email=email,
            password_hash=await self.passwords.hash(password),
            display_name=display_name.strip(),
            role_rows=[UserRole(role=str(role)) for role in sorted(set(roles) | {Role.BUYER})],
        )
        self.session.add(user)
        try:
            await self.session.flush()
        except IntegrityError:  # a concurrent sign-up with the same email won the race
            raise Conflict("email_taken", "An account with this email exists; sign in instead.") from None
        return user

    async def login(self, email: str, password: str) -> SignedIn:
        """Check the password and issue a token; unknown email and wrong password get the same answer."""
        user = await self.session.scalar(select(User).where(User.email == normalise_email(email)))
        if not await self.passwords.verify(user.password_hash if user else None, password) or user is None:
            raise Unauthorized("bad_credentials", "The email or password is not right.")
        if user.suspended_at is not None:  # told only after the right password, so it reveals nothing to a guesser
            raise Forbidden("account_suspended", f"This account is suspended: {user.suspension_reason}")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires_at = now + self.session_ttl
        self.session.add(
            AuthToken(user_id=user.id, token_hash=hash_token(token), created_at=now, expires_at=expires_at)
        )
        await self.session.flush()
        return SignedIn(token=token, expires_at=expires_at, user=user)

    async def logout(self, token_hash: str) -> None:
        await self.session.execute(
            update(AuthToken)
            .where(AuthToken.token_hash == token_hash, AuthToken.revoked_at.is_(None))
            .values(revoked_at=self.clock.now())
        )
        if self.signed_in is not None:
            self.signed_in.revoke(self.session, Revoked(token_hash=token_hash))

    async def user_for_token(self, token: str) -> tuple[User, datetime] | None:
        """The user a live (unexpired, unrevoked) token belongs to, and when the token expires."""
        row = (
            await self.session.execute(
                select(User, AuthToken.expires_at)
                .options(joinedload(User.role_rows))  # one query per request, not one for the user and one for roles
                .join(AuthToken, AuthToken.user_id == User.id)
                .where(
                    AuthToken.token_hash == hash_token(token),
                    AuthToken.revoked_at.is_(None),
                    AuthToken.expires_at > self.clock.now(),
                    User.suspended_at.is_(None),
                )
            )
        ).first()
        return (row[0], row[1]) if row is not None else None
