"""The Fan Zone page at ``/`` and the notifications page, with their htmx fragments.

Everything works as plain HTML: "Load more" is a link to ``/?cursor=...`` (the next page of items), the remind
button a form that answers 303 back to where it was pressed. With htmx the link appends the next items in place and
the button swaps itself.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from community.feed import FeedService
from community.notifications import NotificationService
from community.reminders import ReminderService
from kernel.auth import requires_signed_in
from shop import newest_products

PAGE_SIZE = 10
FRESH_PRODUCTS = 8


def _back(request: Request[Any, Any, Any], fallback: str = "/") -> str:
    """Where a plain form returns to: the page it was sent from, if it is one of ours (same host, a plain path)."""
    referer = urlsplit(request.headers.get("referer", ""))
    ours = referer.netloc == request.headers.get("host", "") and referer.path.startswith("/")
    if ours and not referer.path.startswith(("//", "/\\")) and "\\" not in referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return fallback


async def _unread(request: Request[Any, Any, Any], notifications: NotificationService) -> dict[str, Any]:
    if request.user is None:
        return {}
    return {"notification_count": await notifications.unread(request.user.id)}


@get("/")
async def fan_zone(
    request: Request[Any, Any, Any],
    feed: NamedDependency[FeedService],
    notifications: NamedDependency[NotificationService],
    db_session: NamedDependency[AsyncSession],
    cursor: FromQuery[str | None] = None,
) -> Template:
    """The Fan Zone; ``?cursor=`` shows a later page of items (what "Load more" opens without JavaScript).
    The first page ends with the shop's newest products."""
    page = await feed.page(request.user, PAGE_SIZE, cursor)
    products = await newest_products(db_session, FRESH_PRODUCTS) if cursor is None else []
    return Template(
        "community/fan_zone.html",
        context={
            "feed": page,
            "paged": cursor is not None,
            "products": products,
            **await _unread(request, notifications),
        },
    )


@get("/fan-zone/items")
async def fan_zone_items(
    request: Request[Any, Any, Any], feed: NamedDependency[FeedService], cursor: FromQuery[str | None] = None
) -> Template:
    """Fragment: the next items, appended to the list by "Load more", and the next "Load more"."""
    page = await feed.page(request.user, PAGE_SIZE, cursor)
    return Template("community/partials/_feed_items.html", context={"feed": page, "oob": True})


class ReminderPages(Controller):
    path = "/community/rooms"
    guards = [requires_signed_in]

    @post("/{room_id:uuid}/remind", status_code=200)
    async def remind(
        self, request: HTMXRequest, room_id: FromPath[UUID], reminders: NamedDependency[ReminderService]
    ) -> Response[Any]:
        await reminders.remind(request.user, room_id)
        return self._answer(request, room_id, reminded=True)

    @post("/{room_id:uuid}/forget", status_code=200)
    async def forget(
        self, request: HTMXRequest, room_id: FromPath[UUID], reminders: NamedDependency[ReminderService]
    ) -> Response[Any]:
        await reminders.forget(request.user, room_id)
        return self._answer(request, room_id, reminded=False)

    def _answer(self, request: HTMXRequest, room_id: UUID, *, reminded: bool) -> Response[Any]:
        if not request.htmx:
            return Redirect(_back(request), status_code=303)
        room = {"id": room_id, "reminded": reminded, "calendar_url": f"/community/rooms/{room_id}/calendar.ics"}
        return Template("community/partials/_remind_button.html", context={"room": room})


class NotificationPages(Controller):
    path = "/community/notifications"
    guards = [requires_signed_in]

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        listing = await notifications.page(request.user.id, 30, cursor)
        return Template(
            "community/notifications.html",
            context={"listing": listing, "notification_count": listing.unread},
        )

    @get("/badge")
    async def badge(
        self, request: Request[Any, Any, Any], notifications: NamedDependency[NotificationService]
    ) -> Template:
        """The header's unread count, for pages that render the badge empty and load it."""
        return Template(
            "community/partials/_notification_badge.html",
            context={"notification_count": await notifications.unread(request.user.id)},
        )

    @post("/read", status_code=200)
    async def read_all(
        self, request: Request[Any, Any, Any], notifications: NamedDependency[NotificationService]
    ) -> Redirect:
        """Mark every notification read (a plain form; the page reloads with none unread)."""
        await notifications.mark_read(request.user.id, None)
        return Redirect("/community/notifications", status_code=303)


FEED_PAGES = [fan_zone, fan_zone_items, ReminderPages, NotificationPages]
