"""JSON handlers under /api/live: parse, call a service, map the result. Nothing else."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from kernel.auth import CurrentUser, Role, requires_role, requires_signed_in
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import not_found_when_malformed, problem_spec
from kernel.web import public_base
from live.deals import DealService, deal_out
from live.models import Room, RoomStatus
from live.moderation import ModerationService
from live.rooms import RoomService
from live.schemas import (
    DealIn,
    DealOut,
    ModerationIn,
    ModerationOut,
    PinIn,
    PinsOut,
    RoomIn,
    RoomOut,
    RoomPage,
    RoomPatch,
    StreamKeyOut,
)
from live.views import room_out, room_summaries, whip_url

SIGN_IN = problem_spec("Not signed in")
NOT_FOUND = problem_spec("No such room")
NOT_HOST = problem_spec("Not the room's host (or an admin)")
ENDED = problem_spec("The room has ended")


def _viewer_counts(state: State) -> Any:
    # The room channel registers its live counts here when it runs; without it the count is 0.
    return state.get("room_viewers")


class RoomController(Controller):
    path = "/api/live/rooms"
    tags = ["live"]

    @post(
        "/",
        guards=[requires_role(Role.INFLUENCER)],
        responses={
            401: SIGN_IN,
            403: problem_spec("Not an influencer account"),
            422: problem_spec("Unknown or repeated products, or a start time in the past"),
        },
    )
    async def schedule(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[RoomIn],
        rooms: NamedDependency[RoomService],
        current_user: NamedDependency[CurrentUser],
    ) -> RoomOut:
        """Schedule a room with up to 20 catalog products; the answer carries its WHIP URL and stream key."""
        room = await rooms.schedule(current_user, data)
        return await room_out(rooms, room, current_user, counts=None, public_url=public_base(request), reveal_key=True)

    @get("/", responses={422: problem_spec("Unknown cursor")})
    async def list_rooms(
        self,
        rooms: NamedDependency[RoomService],
        status: FromQuery[RoomStatus | None] = None,
        host_id: FromQuery[UUID | None] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> RoomPage:
        """Rooms by status: ``live`` most recently started first, ``scheduled`` (upcoming) soonest first,
        ``ended`` most recently ended first; without a status, newest first. Pages follow ``next_cursor``."""
        found, next_cursor = await rooms.page(status=status, host_id=host_id, limit=limit, cursor=cursor)
        return RoomPage(await room_summaries(rooms, found), next_cursor)

    @get("/{room_id:uuid}", responses={404: NOT_FOUND})
    async def get_room(
        self, room_id: FromPath[UUID], rooms: NamedDependency[RoomService], request: Request[Any, Any, Any]
    ) -> RoomOut:
        """A room with its products, pinned products, running deals and live viewer count."""
        room = await rooms.get(room_id)
        state = request.app.state
        return await room_out(rooms, room, request.user, counts=_viewer_counts(state), public_url=public_base(request))

    @patch(
        "/{room_id:uuid}",
        guards=[requires_signed_in],
        responses={
            401: SIGN_IN,
            403: NOT_HOST,
            404: NOT_FOUND,
            409: problem_spec("The room has ended, or started (for a new start time)"),
            422: problem_spec("Unknown or repeated products, or a start time in the past"),
        },
    )
    async def update_room(
        self,
        request: Request[Any, Any, Any],
        room_id: FromPath[UUID],
        data: JSONBody[RoomPatch],
        rooms: NamedDependency[RoomService],
        current_user: NamedDependency[CurrentUser],
        state: State,
    ) -> RoomOut:
        """Change the title, description, start time, products or chat slow mode (the host)."""
        room = await rooms.update(current_user, room_id, data)
        return await room_out(rooms, room, current_user, counts=_viewer_counts(state), public_url=public_base(request))

    @post(
        "/{room_id:uuid}/end",
        status_code=200,
        guards=[requires_signed_in],
        responses={401: SIGN_IN, 403: NOT_HOST, 404: NOT_FOUND},
    )
    async def end_room(
        self,
        request: Request[Any, Any, Any],
        room_id: FromPath[UUID],
        rooms: NamedDependency[RoomService],
        current_user: NamedDependency[CurrentUser],
    ) -> RoomOut:
        """End the show (and its deals) even if the encoder never said goodbye; ending twice changes nothing."""
        room = await rooms.for_moderator(current_user, room_id)
        room = await rooms.end(room.id)
        return await room_out(rooms, room, current_user, counts=None, public_url=public_base(request))

    @post(
        "/{room_id:uuid}/stream-key",
        status_code=200,
        guards=[requires_signed_in],
        responses={401: SIGN_IN, 403: problem_spec("Not the room's host"), 404: NOT_FOUND, 409: ENDED},
    )
    async def rotate_stream_key(
        self,
        request: Request[Any, Any, Any],
        room_id: FromPath[UUID],
        rooms: NamedDependency[RoomService],
        current_user: NamedDependency[CurrentUser],
    ) -> StreamKeyOut:
        """A fresh stream key; the old one stops working at once."""
        room = await rooms.rotate_stream_key(current_user, room_id)
        return StreamKeyOut(whip_url(public_base(request), room.id), room.stream_key)

    @post(
        "/{room_id:uuid}/pin",
        status_code=200,
        guards=[requires_signed_in],
        responses={
            401: SIGN_IN,
            403: NOT_HOST,
            404: NOT_FOUND,
            409: ENDED,
            422: problem_spec("Not one of the room's products"),
        },
    )
    async def pin(
        self,
        room_id: FromPath[UUID],
        data: JSONBody[PinIn],
        rooms: NamedDependency[RoomService],
        current_user: NamedDependency[CurrentUser],
    ) -> PinsOut:
        """Pin one of the room's products on top (up to three; the oldest drops off)."""
        room = await rooms.pin(current_user, room_id, data.product_id)
        return await _pins(rooms, room)

    @delete(
        "/{room_id:uuid}/pin/{product_id:str}",
        status_code=200,
        guards=[requires_signed_in],
        responses={401: SIGN_IN, 403: NOT_HOST, 404: problem_spec("No such room, or not pinned"), 409: ENDED},
    )
    async def unpin(
        self,
        room_id: FromPath[UUID],
        product_id: FromPath[str],
        rooms: NamedDependency[RoomService],
        current_user: NamedDependency[CurrentUser],
    ) -> PinsOut:
        room = await rooms.unpin(current_user, room_id, product_id)
        return await _pins(rooms, room)

    @post(
        "/{room_id:uuid}/deals",
        guards=[requires_signed_in],
        responses={
            401: SIGN_IN,
            403: problem_spec("Not the room's host"),
            404: NOT_FOUND,
            409: problem_spec("The room is not live, or a deal on the product is running"),
            422: problem_spec("Not the room's product, not cheaper, more than in stock, or a bad end time"),
        },
    )
    async def offer_deal(
        self,
        room_id: FromPath[UUID],
        data: JSONBody[DealIn],
        deals: NamedDependency[DealService],
        current_user: NamedDependency[CurrentUser],
    ) -> DealOut:
        """Offer a live-only price for a limited quantity until ``ends_at``; bought through checkout's ``deal_id``."""
        return deal_out(await deals.offer(current_user, room_id, data))

    @post(
        "/{room_id:uuid}/moderation",
        status_code=200,
        guards=[requires_signed_in],
        responses={
            401: SIGN_IN,
            403: NOT_HOST,
            404: problem_spec("No such room, user or message"),
            422: problem_spec("Missing user or message, or the host themselves"),
        },
    )
    async def moderate(
        self,
        room_id: FromPath[UUID],
        data: JSONBody[ModerationIn],
        moderation: NamedDependency[ModerationService],
        current_user: NamedDependency[CurrentUser],
    ) -> ModerationOut:
        """Mute, ban, unmute or unban a user in the room, or delete a chat message."""
        event = await moderation.act(current_user, room_id, data)
        return ModerationOut(event.action, event.user_id, event.message_id)


async def _pins(rooms: RoomService, room: Room) -> PinsOut:
    pinned = await rooms.pinned(room)
    return PinsOut(pinned[0] if pinned else None, pinned)


LIVE_CONTROLLERS = [RoomController]
not_found_when_malformed(LIVE_CONTROLLERS, room_id="room")
