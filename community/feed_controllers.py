"""JSON handlers of the Fan Zone: the feed, room reminders and their calendar file, notifications."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from community.feed import FeedOut, FeedService
from community.notifications import NotificationPage, NotificationService, ReadIn, UnreadOut
from community.reminders import ReminderOut, ReminderService
from kernel.auth import requires_signed_in
from kernel.pagination import DEFAULT_LIMIT, Limit
from kernel.problems import problem_spec
from kernel.web import public_base


def provide_feed(db_session: NamedDependency[AsyncSession], state: State) -> FeedService:
    fan_zone = state.fan_zone
    return FeedService(db_session, state.clock, state.settings.community, fan_zone.trending, fan_zone.redis)


def provide_reminders(db_session: NamedDependency[AsyncSession], state: State) -> ReminderService:
    return ReminderService(db_session, state.clock)


def provide_notifications(db_session: NamedDependency[AsyncSession], state: State) -> NotificationService:
    return NotificationService(db_session, state.clock)


FEED_DEPENDENCIES = {
    "feed": Provide(provide_feed, sync_to_thread=False),
    "reminders": Provide(provide_reminders, sync_to_thread=False),
    "notifications": Provide(provide_notifications, sync_to_thread=False),
}
ROOM_NOT_FOUND = problem_spec("No such room")


class FeedController(Controller):
    path = "/api/community"
    tags = ["community"]

    @get("/feed", responses={422: problem_spec("The cursor is not one this server gave out")})
    async def feed(
        self,
        request: Request[Any, Any, Any],
        feed: NamedDependency[FeedService],
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> FeedOut:
        """The Fan Zone. Signed in: followed creators' posts and live/upcoming rooms, newest first, then trending;
        signed out: trending. ``live_now`` and ``upcoming`` come with the first page; ``next_cursor`` is null at the
        end. Trending is a snapshot taken each minute, so paging through it never repeats or skips an item."""
        return await feed.page(request.user, limit, cursor)

    @post(
        "/rooms/{room_id:uuid}/reminder",
        guards=[requires_signed_in],
        status_code=201,
        responses={404: ROOM_NOT_FOUND, 409: problem_spec("The room is live already or has ended")},
    )
    async def remind(
        self, request: Request[Any, Any, Any], room_id: FromPath[UUID], reminders: NamedDependency[ReminderService]
    ) -> Response[ReminderOut]:
        """Be notified in the app when the room goes live (201; 200 when already reminded)."""
        reminder, created = await reminders.remind(request.user, room_id)
        return Response(reminder, status_code=201 if created else 200)

    @delete("/rooms/{room_id:uuid}/reminder", guards=[requires_signed_in], responses={404: ROOM_NOT_FOUND})
    async def forget(
        self, request: Request[Any, Any, Any], room_id: FromPath[UUID], reminders: NamedDependency[ReminderService]
    ) -> None:
        """No reminder for this room any more (204, also when there was none)."""
        await reminders.forget(request.user, room_id)

    @get("/notifications", guards=[requires_signed_in])
    async def notification_list(
        self,
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
        limit: Limit = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> NotificationPage:
        """The caller's notifications, newest first, with the number still unread."""
        return await notifications.page(request.user.id, limit, cursor)

    @post(
        "/notifications/read",
        guards=[requires_signed_in],
        status_code=200,
        responses={404: problem_spec("A notification that is not the caller's")},
    )
    async def mark_read(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[ReadIn],
        notifications: NamedDependency[NotificationService],
    ) -> UnreadOut:
        """Mark ``ids`` read (all when omitted); answers how many stay unread."""
        return UnreadOut(await notifications.mark_read(request.user.id, data.ids))


@get(
    "/community/rooms/{room_id:uuid}/calendar.ics",
    media_type="text/calendar; charset=utf-8",
    include_in_schema=False,
)
async def room_calendar(
    request: Request[Any, Any, Any], room_id: FromPath[UUID], reminders: NamedDependency[ReminderService]
) -> Response[str]:
    """The room as an iCalendar event, to add to any calendar app."""
    body = await reminders.calendar(room_id, public_base(request))
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="livecommerce-room-{room_id}.ics"'},
    )


FEED_CONTROLLERS = [FeedController, room_calendar]
