"""Live rooms: scheduling, WHIP/WHEP media, the room channel and buying in the room.

This package root is live's public read API for community: rooms as frozen read models (``live.directory``), and
the events and topic community listens to (``live.events``). Community imports from here, or ``live.events``,
and nowhere deeper.
"""

from live.directory import (
    HostRooms,
    RoomView,
    chat_message_counts,
    find_rooms,
    host_rooms,
    live_now,
    open_rooms_of_hosts,
    room_by_id,
    rooms_announced,
    rooms_by_id,
    upcoming,
)
from live.events import ROOMS_TOPIC, RoomStatusChanged
from live.models import RoomStatus

__all__ = [
    "ROOMS_TOPIC",
    "HostRooms",
    "RoomStatus",
    "RoomStatusChanged",
    "RoomView",
    "chat_message_counts",
    "find_rooms",
    "host_rooms",
    "live_now",
    "open_rooms_of_hosts",
    "room_by_id",
    "rooms_announced",
    "rooms_by_id",
    "upcoming",
]
