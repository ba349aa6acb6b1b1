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
