"""Turn rooms into the API's output shapes (one place, used by the JSON API and the room pages)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from kernel.auth import CurrentUser
from live.deals import DealService, deal_out
from live.models import Room
from live.rooms import RoomService, ViewerCounts, viewer_count
from live.schemas import HostOut, RoomOut, RoomSummaryOut
from shop import products_by_id


def whip_url(public_url: str, room_id: UUID) -> str:
    """Where an encoder (OBS, the studio page) publishes the room's broadcast."""
    return f"{public_url.rstrip('/')}/live/rooms/{room_id}/whip"


def is_host(room: Room, user: CurrentUser | None) -> bool:
    return user is not None and room.host_id == user.id


async def room_out(
    rooms: RoomService,
    room: Room,
    viewer: CurrentUser | None,
    *,
    counts: ViewerCounts | None,
    public_url: str,
    reveal_key: bool = False,
) -> RoomOut:
    """The room in full; its host (and only its host) also gets the WHIP URL and the stream key."""
    products = await rooms.products(room)
    pinned = await rooms.pinned(room)
    deals = await DealService(rooms).active(room)
    names = await rooms.host_names([room])
    secret = reveal_key or is_host(room, viewer)
    return RoomOut(
        id=room.id,
        host=HostOut(room.host_id, names.get(room.host_id, "")),
        title=room.title,
        description=room.description,
        status=room.status,
        scheduled_for=room.scheduled_for,
        started_at=room.started_at,
        ended_at=room.ended_at,
        products=products,
        pinned_product=pinned[0] if pinned else None,
        pinned_products=pinned,
        deals=[deal_out(d) for d in deals],
        viewer_count=await viewer_count(counts, room.id) if room.status == "live" else 0,
        like_count=room.like_count,
        peak_viewers=room.peak_viewers,
        slow_mode_seconds=room.slow_mode_seconds,
        whip_url=whip_url(public_url, room.id) if secret else None,
        stream_key=room.stream_key if secret else None,
    )


async def room_summaries(rooms: RoomService, found: Sequence[Room]) -> list[RoomSummaryOut]:
    """Cards for a list of rooms, in three queries however long the list."""
    product_ids = await rooms.product_ids(found)
    names = await rooms.host_names(found)
    firsts = await products_by_id(rooms.session, [ids[0] for ids in product_ids.values() if ids])
    out = []
    for room in found:
        ids = product_ids[room.id]
        cover = firsts.get(ids[0]) if ids else None
        out.append(
            RoomSummaryOut(
                id=room.id,
                host=HostOut(room.host_id, names.get(room.host_id, "")),
                title=room.title,
                description=room.description,
                status=room.status,
                scheduled_for=room.scheduled_for,
                started_at=room.started_at,
                ended_at=room.ended_at,
                product_ids=ids,
                cover_image_url=cover.image_url if cover else None,
                like_count=room.like_count,
                peak_viewers=room.peak_viewers,
            )
        )
    return out
