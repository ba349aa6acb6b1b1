"""Dependency providers: each request's live services share its database session."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from live.deals import DealService
from live.moderation import ModerationService
from live.rooms import RoomService


def provide_rooms(db_session: NamedDependency[AsyncSession], state: State) -> RoomService:
    return RoomService(db_session, state.clock, state.bus, state.settings.live)


def provide_deals(rooms: NamedDependency[RoomService]) -> DealService:
    return DealService(rooms)


def provide_moderation(rooms: NamedDependency[RoomService]) -> ModerationService:
    return ModerationService(rooms)


LIVE_DEPENDENCIES = {
    "rooms": Provide(provide_rooms, sync_to_thread=False),
    "deals": Provide(provide_deals, sync_to_thread=False),
    "moderation": Provide(provide_moderation, sync_to_thread=False),
}
