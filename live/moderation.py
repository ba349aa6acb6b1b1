"""Moderation: the host (or an admin) mutes, bans and deletes messages; the channel enforces the sanctions.

Sanctions are rows (one per room, user and kind), so they hold across processes and reconnects; each action is
published on the room topic after the commit, and the channel reacts (a ban closes that user's sockets).
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser
from kernel.auth.models import User
from kernel.errors import NotFound, RuleBroken
from live.events import Moderation, room_topic
from live.models import ChatMessage, Room, Sanction, SanctionKind
from live.rooms import RoomService, parse_id
from live.schemas import ModerationIn

_SANCTIONS = {"mute": SanctionKind.MUTE, "ban": SanctionKind.BAN}
_LIFTS = {"unmute": SanctionKind.MUTE, "unban": SanctionKind.BAN}


async def sanctions(session: AsyncSession, room_id: UUID, user_id: UUID) -> set[SanctionKind]:
    """What ``user_id`` is under in the room: empty, or mute and/or ban."""
    kinds = await session.scalars(select(Sanction.kind).where(Sanction.room_id == room_id, Sanction.user_id == user_id))
    return {SanctionKind(k) for k in kinds}


class ModerationService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.session = rooms.session

    async def act(self, moderator: CurrentUser, room_id: UUID, data: ModerationIn) -> Moderation:
        """Apply one action (idempotent: muting the muted changes nothing) and return the event published."""
        room = await self.rooms.for_moderator(moderator, room_id)
        if data.action == "delete_message":
            event = await self._delete_message(room, data.message_id)
        else:
            user_id = await self._target(room, data.user_id)
            if data.action in _SANCTIONS:
                await self._sanction(room, user_id, _SANCTIONS[data.action], moderator.id)
            else:
                await self.session.execute(
                    delete(Sanction).where(
                        Sanction.room_id == room.id, Sanction.user_id == user_id, Sanction.kind == _LIFTS[data.action]
                    )
                )
            event = Moderation(action=data.action, user_id=str(user_id))
        await self.session.flush()
        self.rooms.bus.after_commit(self.session, room_topic(room.id), event)
        return event

    async def _target(self, room: Room, raw: str | None) -> UUID:
        if raw is None:
            raise RuleBroken(
                "user_required",
                "Name the user to act on.",
                errors=[{"field": "user_id", "message": "required for this action"}],
            )
        user_id = parse_id(raw, "user")
        if user_id == room.host_id:
            raise RuleBroken(
                "cannot_sanction_host",
                "The host cannot be muted or banned in their own room.",
                errors=[{"field": "user_id", "message": "the room's host"}],
            )
        if await self.session.get(User, user_id) is None:
            raise NotFound("user_not_found", f"There is no user {raw}.")
        return user_id

    async def _sanction(self, room: Room, user_id: UUID, kind: SanctionKind, by_id: UUID) -> None:
        existing = await self.session.scalar(
            select(Sanction.id).where(Sanction.room_id == room.id, Sanction.user_id == user_id, Sanction.kind == kind)
        )
        if existing is None:
            self.session.add(
                Sanction(room_id=room.id, user_id=user_id, kind=kind, by_id=by_id, at=self.rooms.clock.now())
            )

    async def _delete_message(self, room: Room, raw: str | None) -> Moderation:
        if raw is None:
            raise RuleBroken(
                "message_required",
                "Name the message to delete.",
                errors=[{"field": "message_id", "message": "required for delete_message"}],
            )
        message = await self.session.get(ChatMessage, parse_id(raw, "message"))
        if message is None or message.room_id != room.id:
            raise NotFound("message_not_found", f"There is no message {raw} in this room.")
        if message.deleted_at is None:
            message.deleted_at = self.rooms.clock.now()
        return Moderation(action="delete_message", user_id=str(message.user_id), message_id=str(message.id))
