"""auth_* tables: users, their roles, and the tokens that stand for a signed-in session."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from advanced_alchemy.base import UUIDv7AuditBase, UUIDv7Base
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship


class Role(StrEnum):
    BUYER = "buyer"
    INFLUENCER = "influencer"
    SELLER = "seller"
    MARKETER = "marketer"
    ADMIN = "admin"


# Anyone may take these at sign-up; marketers and admins are made by the operator's CLI only.
SELF_SERVICE_ROLES = frozenset({Role.BUYER, Role.INFLUENCER, Role.SELLER})


class User(UUIDv7AuditBase):
    __tablename__ = "auth_user"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(80))
    # A suspended account cannot sign in and its tokens stop working; the reason is what its owner is told.
    suspended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    suspension_reason: Mapped[str | None] = mapped_column(String(300), default=None)
    role_rows: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="UserRole.role"
    )

    @property
    def roles(self) -> list[Role]:
        return [Role(r.role) for r in self.role_rows]


class UserRole(UUIDv7Base):
    __tablename__ = "auth_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))


class AuthToken(UUIDv7Base):
    """A sign-in: the same secret serves as the bearer token and the session cookie; only its hash is kept."""

    __tablename__ = "auth_token"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class AccountAction(StrEnum):
    """What an admin did to an account; stored in ``AccountEvent.action``."""

    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    ROLES = "roles"  # roles granted or taken away; the detail names them


class AccountEvent(UUIDv7Base):
    """An audit row per admin action on an account: who did what to whom, when, and why."""

    __tablename__ = "auth_account_event"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[UUID] = mapped_column(ForeignKey("auth_user.id"))
    action: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
