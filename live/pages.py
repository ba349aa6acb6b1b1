"""HTML pages of live rooms: the listing, the room (video, chat, products, in-page checkout) and the creator studio.

The pages render the room as it is now; ``static/js/room.js`` keeps it current from the room channel, and the
WebRTC clients (``whip.js``, ``whep.js``) carry the video. Everything a script needs rides in one JSON data block
(``<script type="application/json">``), which the Content-Security-Policy lets through because it never runs.
Actions (pins, deals, moderation, scheduling) go to the JSON API with the page's CSRF token.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote, unquote, urlencode
from uuid import UUID

import msgspec
from litestar import Controller, Request, get
from litestar.channels import ChannelsPlugin
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.handlers import websocket_stream
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.auth import CurrentUser, Role, requires_role
from kernel.errors import NotFound
from kernel.web import public_base, visitor
from live.events import ROOMS_TOPIC, RoomStatusChanged
from live.models import Room, RoomStatus
from live.rooms import RoomService, can_moderate
from live.schemas import MAX_PINNED, MAX_ROOM_PRODUCTS, RoomOut
from live.views import is_host, room_out, room_summaries
from live.whip import media_url
from shop import TouchKind, live_row, refresh_reports

Rooms = NamedDependency[RoomService]
LISTED = 24  # rooms per section of /live
STUDIO_ROOMS = 50


def ice_servers(entries: tuple[str, ...]) -> list[dict[str, str]]:
    """``RTCIceServer`` objects from the settings' entries (``stun:host:port``, ``turn:user:secret@host:port``)."""
    servers = []
    for entry in entries:
        scheme, _, rest = entry.partition(":")
        credentials, at, host = rest.rpartition("@")
        if not at:
            servers.append({"urls": entry})
            continue
        username, _, credential = credentials.partition(":")
        servers.append({"urls": f"{scheme}:{host}", "username": unquote(username), "credential": unquote(credential)})
    return servers


def _viewer(request: Request[Any, Any, Any]) -> CurrentUser | None:
    return request.scope.get("user")


async def _room_out(request: Request[Any, Any, Any], rooms: RoomService, room: Room, state: State) -> RoomOut:
    return await room_out(
        rooms,
        room,
        _viewer(request),
        counts=getattr(state, "room_viewers", None),
        public_url=public_base(request),
    )


def _page_data(
    found: Room, room: RoomOut, request: Request[Any, Any, Any], state: State, **extra: Any
) -> dict[str, Any]:
    """What the room's scripts start from; the channel's frames keep it current."""
    me = _viewer(request)
    base = f"/live/rooms/{room.id}"
    data = {
        "room_id": room.id,
        "host_id": room.host.id,
        "status": room.status,
        "me": {"id": me.id, "display_name": me.display_name} if me else None,
        "ws_url": f"{base}/ws",
        "whep_url": media_url(state.settings.live, found, "whep"),
        "ice_servers": ice_servers(state.settings.live.ice_servers),
        "products": {
            p.id: {"id": p.id, "title": p.title, "price": p.price, "stock": p.stock, "image_url": p.image_url}
            for p in [*room.products, *room.pinned_products]
        },
        "pinned": [p.id for p in room.pinned_products],
        "deals": room.deals,
        "signin_url": "/signin?next=" + quote(base, safe="/"),
        **extra,
    }
    return msgspec.to_builtins(data)


class LivePages(Controller):
    path = "/live"

    @get("/")
    async def index(self, rooms: Rooms) -> Template:
        """Rooms live now (most recently started first) and upcoming ones (soonest first)."""
        live, _ = await rooms.page(status=RoomStatus.LIVE, host_id=None, limit=LISTED, cursor=None)
        upcoming, _ = await rooms.page(status=RoomStatus.SCHEDULED, host_id=None, limit=LISTED, cursor=None)
        return Template(
            "live/index.html",
            context={
                "live_rooms": await room_summaries(rooms, live),
                "upcoming_rooms": await room_summaries(rooms, upcoming),
            },
        )

    @get("/rooms/{room_id:uuid}")
    async def room(
        self, request: Request[Any, Any, Any], room_id: FromPath[UUID], rooms: Rooms, state: State
    ) -> Template:
        """The room: the video when live, chat, pinned products and deals, and the in-page checkout."""
        found = await rooms.get(room_id)
        room = await _room_out(request, rooms, found, state)
        viewer = _viewer(request)
        moderator = can_moderate(found, viewer)
        data = _page_data(found, room, request, state, moderator=moderator)
        cookies: list[Cookie] = []
        if viewer is None or viewer.id != found.host_id:  # a viewer joining: a view touch for attribution
            visitor_id, cookies = visitor(request)
            state.touches.record(
                TouchKind.VIEW,
                room_id=found.id,
                creator_id=found.host_id,
                user_id=viewer.id if viewer else None,
                visitor_id=visitor_id,
            )
        return Template("live/room.html", context={"room": room, "data": data, "moderator": moderator}, cookies=cookies)

    @get("/rooms/{room_id:uuid}/products/{product_id:uuid}")
    async def open_product(
        self,
        request: Request[Any, Any, Any],
        room_id: FromPath[UUID],
        product_id: FromPath[UUID],
        rooms: Rooms,
        state: State,
        deal_id: FromQuery[UUID | None] = None,
        buy: FromQuery[bool] = False,
    ) -> Redirect:
        """A product opened from the room: record the click, then shop's product page, or with ``?buy=true`` (the
        room's Buy button under htmx, which follows the redirect) its quick-buy form, with the room as the source."""
        found = await rooms.get(room_id)
        await rooms.room_product(found, str(product_id))
        viewer = _viewer(request)
        visitor_id, cookies = visitor(request)
        state.touches.record(
            TouchKind.CLICK,
            room_id=found.id,
            creator_id=found.host_id,
            product_id=product_id,
            user_id=viewer.id if viewer else None,
            visitor_id=visitor_id,
        )
        query = {"room_id": str(found.id), **({"deal_id": str(deal_id)} if deal_id else {})}
        target = f"/shop/products/{product_id}/buy" if buy else f"/shop/products/{product_id}"
        return Redirect(f"{target}?{urlencode(query)}", cookies=cookies)


class StudioPages(Controller):
    """The creator's side: schedule rooms, then go live from the browser (or OBS) and run the show."""

    path = "/live/studio"
    guards = [requires_role(Role.INFLUENCER)]

    @get("/")
    async def studio(self, request: Request[Any, Any, Any], rooms: Rooms) -> Template:
        mine, _ = await rooms.page(status=None, host_id=request.user.id, limit=STUDIO_ROOMS, cursor=None)
        summaries = await room_summaries(rooms, mine)
        by_status = {s: [r for r in summaries if r.status == s] for s in RoomStatus}
        return Template(
            "live/studio.html",
            context={"rooms": by_status, "max_products": MAX_ROOM_PRODUCTS},
        )

    @get("/{room_id:uuid}")
    async def studio_room(
        self, request: Request[Any, Any, Any], room_id: FromPath[UUID], rooms: Rooms, state: State
    ) -> Template:
        """One room's control desk; its stream key is shown here, to its host only (others: not found)."""
        found = await rooms.get(room_id)
        if not is_host(found, request.user):
            raise NotFound("room_not_found", f"You host no room {room_id}.")
        room = await _room_out(request, rooms, found, state)
        data = _page_data(
            found,
            room,
            request,
            state,
            moderator=True,
            whip_url=media_url(state.settings.live, found, "whip"),
            stream_key=room.stream_key,
            api_url=f"/api/live/rooms/{room.id}",
        )
        return Template(
            "live/studio_room.html",
            context={"room": room, "data": data, "max_pinned": MAX_PINNED},
        )

    @get("/{room_id:uuid}/stats")
    async def stats(
        self,
        request: Request[Any, Any, Any],
        room_id: FromPath[UUID],
        rooms: Rooms,
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> Template:
        """The host's live dashboard: who is watching and what the show has sold so far (polled while live)."""
        await refresh_reports(state.db)  # before this request's transaction: folding takes its own
        found = await rooms.get(room_id)
        if not is_host(found, request.user):
            raise NotFound("room_not_found", f"You host no room {room_id}.")
        since = (found.started_at or found.created_at).date()
        row = await live_row(
            db_session, state.shop.attribution, found.id, found.host_id, since, state.settings.shop.currency
        )
        room = await _room_out(request, rooms, found, state)
        return Template("live/partials/_room_stats.html", context={"room": room, "row": row})


@websocket_stream("/live/statuses/ws")
async def room_statuses(channels: NamedDependency[ChannelsPlugin]) -> AsyncGenerator[str, None]:
    """Rooms going live or ending, as it happens, for the pages that list rooms (``static/js/room-cards.js``):
    frames ``{"type": "status", "room_id", "status"}``. A WebSocket rather than a stream of HTTP, so the server
    closes it at shutdown and the page reconnects."""
    decode = msgspec.json.Decoder(RoomStatusChanged).decode
    async with channels.start_subscription([ROOMS_TOPIC]) as subscriber:
        async for raw in subscriber.iter_events():
            changed = decode(raw)
            yield msgspec.json.encode({"type": "status", "room_id": changed.room_id, "status": changed.status}).decode()


LIVE_PAGES = [LivePages, StudioPages, room_statuses]
