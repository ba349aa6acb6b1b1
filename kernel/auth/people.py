"""Finding accounts by name: pages let people pick a creator or a seller by what they are called, not by id."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth.models import Role, User, UserRole


@dataclass(frozen=True)
class Person:
    id: UUID
    name: str


async def people(session: AsyncSession, role: Role, name_part: str = "", limit: int = 20) -> list[Person]:
    """Accounts holding ``role`` whose display name contains ``name_part`` (any case), by name."""
    query = select(User.id, User.display_name).join(UserRole, UserRole.user_id == User.id).where(UserRole.role == role)
    if part := name_part.strip():
        escaped = part.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(User.display_name.ilike(f"%{escaped}%", escape="\\"))
    found = await session.execute(query.order_by(User.display_name, User.id).limit(limit))
    return [Person(user_id, name) for user_id, name in found.all()]


async def person(session: AsyncSession, role: Role, user_id: UUID) -> Person | None:
    """The account ``user_id`` if it holds ``role``."""
    query = select(User.id, User.display_name).join(UserRole, UserRole.user_id == User.id)
    found = (await session.execute(query.where(User.id == user_id, UserRole.role == role))).first()
    return Person(*found) if found else None
