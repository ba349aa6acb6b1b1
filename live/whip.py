"""WHIP (RFC 9725) and WHEP over HTTP: an SDP offer in, 201 with the SDP answer and the session's ``Location``.

Non-trickle: aiortc gathers every ICE candidate before answering, so one POST is the whole exchange and PATCH
answers 405. OBS's shape (H264 + Opus, bearer token, no trickle) and the pages' ``whip.js``/``whep.js`` both fit.

Who may: WHIP and its DELETE need the room's stream key as ``Authorization: Bearer``; it is not a session token,
so the auth middleware leaves the request anonymous and the key is checked here. WHEP is open to anyone.

CSRF: these routes are exempt. The publisher's requests carry their credential in a header a third-party page
cannot make a browser send; a viewer's session is anonymous (no cookie-authenticated state changes: the relay
never looks at who is signed in) and its DELETE URL is an unguessable capability. A cross-site page could only
make a browser watch a stream, as it could by asking for one itself; and ``application/sdp`` is not a type an
HTML form can send, so fetch would need a CORS preflight we do not grant.

Scaled shape: an app process with ``LiveSettings.media_nodes`` (and not a media node itself) answers 307 to the
node that owns the room (``Room.media_node``; a new broadcast goes to the node its room id hashes to), keeping
method and body. A media node records itself as the room's node when a broadcast starts.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from litestar import Request, Response, delete, patch, post
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect

from kernel.errors import DomainError, NotFound, Unauthorized
from kernel.problems import not_found_when_malformed, problem_spec
from kernel.settings import LiveSettings, Settings
from live.deps import LIVE_DEPENDENCIES
from live.media import RoomMedia
from live.models import Room, RoomStatus
from live.offers import BadSdp
from live.rooms import RoomService

SDP = "application/sdp"
MAX_SDP_BYTES = 64 * 1024  # offers are a few KiB; OBS's with many candidates stays well under this
ROUTE_OPTIONS: dict[str, Any] = {
    "opt": {"exclude_from_csrf": True},
    "dependencies": LIVE_DEPENDENCIES,
    "tags": ["live media"],
    "include_in_schema": True,
}
SDP_PROBLEMS = {
    400: problem_spec("Malformed SDP, or nothing in it we can relay"),
    413: problem_spec("The SDP offer is too large"),
    415: problem_spec("The body is not application/sdp"),
}
Rooms = NamedDependency[RoomService]


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"


def pick_node(nodes: tuple[str, ...], room_id: UUID) -> str:
    """The media node a new broadcast of ``room_id`` goes to: stable for a room while the node list is."""
    return nodes[int.from_bytes(hashlib.sha256(room_id.bytes).digest()[:8], "big") % len(nodes)]


def redirects(settings: LiveSettings) -> bool:
    """An app process in front of media nodes (a media node, or an embedded app, serves media itself)."""
    return bool(settings.media_nodes) and settings.media_node_url is None


def media_url(settings: LiveSettings, room: Room, kind: str) -> str:
    """Where a page should send WHIP (``kind="whip"``) or WHEP for ``room``: straight to the media node when media
    runs apart, since browsers drop ``Authorization`` when a redirect crosses origins; our own path otherwise."""
    path = f"/live/rooms/{room.id}/{kind}"
    if not redirects(settings):
        return path
    live_node = room.media_node if room.status == RoomStatus.LIVE else None
    return f"{live_node or pick_node(settings.media_nodes, room.id)}{path}"


def media_node_cors(settings: Settings) -> CORSConfig | None:
    """A media node answers the app's pages cross-origin: they reach it through the app's 307 redirects.

    Without LIVECOMMERCE_PUBLIC_URL the node cannot know the pages' address, so it answers any origin; no
    credentials are ever allowed, so a page elsewhere can do nothing a script outside a browser could not.
    """
    if settings.live.media_node_url is None:
        return None
    return CORSConfig(
        allow_origins=[settings.public_url or "*"],
        allow_methods=["POST", "DELETE", "PATCH"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Location"],
    )


def _owning_node(room: Room) -> str:
    if room.status != RoomStatus.LIVE or not room.media_node:
        raise NotFound("room_not_live", "This room is not live right now.")
    return room.media_node


def _redirect(node: str, request: Request[Any, Any, Any]) -> Redirect:
    return Redirect(f"{node}{request.url.path}", status_code=307)  # 307: the client repeats method and body


def _session_url(settings: LiveSettings, room_id: UUID, kind: str, session_id: str) -> str:
    # A media node names itself, so a client that came through a redirect deletes the session where it lives.
    return f"{settings.media_node_url or ''}/live/rooms/{room_id}/{kind}/{session_id}"


def _stream_key(request: Request[Any, Any, Any]) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("stream_key_required", "Send the room's stream key as `Authorization: Bearer <key>`.")
    return key.strip()


async def _offer(request: Request[Any, Any, Any]) -> str:
    if request.content_type[0] != SDP:
        raise UnsupportedMediaType("not_sdp", f"Send the offer as {SDP}.")
    body = await request.body()  # over MAX_SDP_BYTES: 413 before any of it is kept
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSdp("malformed_sdp", "The SDP offer is not UTF-8 text.") from None
    if not text.strip():
        raise BadSdp("empty_sdp", "The body is empty; send an SDP offer.")
    return text


def _media(state: State) -> RoomMedia:
    return state.media  # type: ignore[no-any-return]


def _answer(settings: LiveSettings, room_id: UUID, kind: str, session_id: str, answer: str) -> Response[str]:
    location = _session_url(settings, room_id, kind, session_id)
    return Response(answer, status_code=201, media_type=SDP, headers={"Location": location})


@post(
    "/live/rooms/{room_id:uuid}/whip",
    status_code=201,
    request_max_body_size=MAX_SDP_BYTES,
    responses={
        **SDP_PROBLEMS,
        307: problem_spec("Served by the room's media node"),
        401: problem_spec("Missing or wrong stream key"),
        404: problem_spec("No such room"),
        409: problem_spec("The room is already being broadcast, or has ended"),
    },
    **ROUTE_OPTIONS,
)
async def publish(
    request: Request[Any, Any, Any], room_id: FromPath[UUID], rooms: Rooms, state: State
) -> Response[Any]:
    """Start broadcasting (WHIP): the room goes live when the first media arrives."""
    settings = state.settings.live
    room = await rooms.authorize_publisher(room_id, _stream_key(request))
    if redirects(settings):
        live_node = room.media_node if room.status == RoomStatus.LIVE else None
        return _redirect(live_node or pick_node(settings.media_nodes, room.id), request)
    offer = await _offer(request)
    # Gathering ICE candidates takes a while: no database transaction (on SQLite, a write lock) is held across it.
    await rooms.session.commit()
    session = await _media(state).publish(room.id, offer)
    if settings.media_node_url:
        try:
            await rooms.set_media_node(room.id, settings.media_node_url)
        except BaseException:
            await _media(state).stop_publishing(room.id, session.id)
            raise
    return _answer(settings, room.id, "whip", session.id, session.answer)


@delete(
    "/live/rooms/{room_id:uuid}/whip/{session_id:str}",
    status_code=200,
    responses={401: problem_spec("Missing or wrong stream key"), 404: problem_spec("No such session")},
    **ROUTE_OPTIONS,
)
async def stop_publishing(
    request: Request[Any, Any, Any], room_id: FromPath[UUID], session_id: FromPath[str], rooms: Rooms, state: State
) -> Response[Any]:
    """End the broadcast: the room ends."""
    room = await rooms.authorize_publisher(room_id, _stream_key(request))
    if redirects(state.settings.live):
        return _redirect(_owning_node(room), request)
    await _media(state).stop_publishing(room.id, session_id)
    await rooms.end(room.id)
    return Response(None, status_code=200)


@patch(
    ["/live/rooms/{room_id:uuid}/whip/{session_id:str}", "/live/rooms/{room_id:uuid}/whep/{session_id:str}"],
    responses={405: problem_spec("Trickle ICE is not supported")},
    **ROUTE_OPTIONS,
)
async def no_trickle(room_id: FromPath[UUID], session_id: FromPath[str]) -> None:
    """Trickle ICE and ICE restarts are not offered: the answer already holds every candidate."""
    raise HTTPException(
        status_code=405,
        detail="Trickle ICE is not supported: the answer holds every candidate.",
        headers={"Allow": "DELETE"},
    )


@post(
    "/live/rooms/{room_id:uuid}/whep",
    status_code=201,
    request_max_body_size=MAX_SDP_BYTES,
    responses={**SDP_PROBLEMS, 307: problem_spec("Served by the room's media node"), 404: problem_spec("Not live")},
    **ROUTE_OPTIONS,
)
async def watch(request: Request[Any, Any, Any], room_id: FromPath[UUID], rooms: Rooms, state: State) -> Response[Any]:
    """Watch a live room (WHEP)."""
    settings = state.settings.live
    if redirects(settings):
        return _redirect(_owning_node(await rooms.get(room_id)), request)
    # Whether media flows is in the relay's memory: no database work, so viewers arriving at once never queue on it.
    session = await _media(state).watch(room_id, await _offer(request))
    return _answer(settings, room_id, "whep", session.id, session.answer)


@delete(
    "/live/rooms/{room_id:uuid}/whep/{session_id:str}",
    status_code=200,
    responses={404: problem_spec("No such session")},
    **ROUTE_OPTIONS,
)
async def stop_watching(
    request: Request[Any, Any, Any], room_id: FromPath[UUID], session_id: FromPath[str], rooms: Rooms, state: State
) -> Response[Any]:
    """Stop watching."""
    if redirects(state.settings.live):
        return _redirect(_owning_node(await rooms.get(room_id)), request)
    await _media(state).stop_watching(room_id, session_id)
    return Response(None, status_code=200)


MEDIA_CONTROLLERS = [publish, stop_publishing, no_trickle, watch, stop_watching]
not_found_when_malformed(MEDIA_CONTROLLERS, room_id="room")
