"""WHIP in, WHEP out, through the app, with aiortc peers as OBS, browsers and viewers would be.

Everything runs in a network namespace that has only loopback (``tests/live/netns.py``), with ICE host addresses
restricted to 127.0.0.1 and no STUN/TURN server, so no packet can leave this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack
from litestar import Litestar

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from live.media import RoomMedia
from live.whip import pick_node
from tests.clients import asgi_client
from tests.factories import bearer
from tests.live.helpers import go_live, make_creator, schedule_room
from tests.live.peers import HEIGHT, WIDTH, SyntheticCamera, codecs, loopback_namespace, new_pc

pytestmark = pytest.mark.usefixtures(loopback_namespace.__name__)
MEDIA_ENV = {"LIVECOMMERCE_ICE_HOST_ADDRESSES": "127.0.0.1", "LIVECOMMERCE_PUBLISHER_GRACE": "600ms"}
SDP = {"Content-Type": "application/sdp"}


class Viewer:
    """A WHEP player that decodes what it gets and notes when its first picture came."""

    def __init__(self, video_codec: str | None = None) -> None:
        self.pc = new_pc()
        self.sizes: list[tuple[int, int]] = []
        self.first_frame_after: float | None = None
        self.location: str | None = None
        self._started = 0.0
        self._reader: asyncio.Future[None] | None = None
        video = self.pc.addTransceiver("video", direction="recvonly")
        if video_codec:
            video.setCodecPreferences(codecs("video", video_codec))
        self.pc.addTransceiver("audio", direction="recvonly")
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self._reader = asyncio.ensure_future(self._read(track))

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                if self.first_frame_after is None:
                    self.first_frame_after = time.monotonic() - self._started
                self.sizes.append((frame.width, frame.height))

    async def join(self, client: httpx.AsyncClient, room_id: str) -> httpx.Response:
        self._started = time.monotonic()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        response = await client.post(f"/live/rooms/{room_id}/whep", content=self.pc.localDescription.sdp, headers=SDP)
        if response.status_code == 201:
            self.location = response.headers["location"]
            await self.pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
        else:
            await self.pc.close()  # refused: nothing to keep open
        return response


async def publish(
    client: httpx.AsyncClient, room: dict[str, Any], video_codec: str = "VP8", audio: bool = True, key: str = ""
) -> tuple[RTCPeerConnection, httpx.Response]:
    """Publish a test pattern (and silence) the way OBS does: one offer with every candidate, no trickle."""
    pc = new_pc()
    pc.addTransceiver(SyntheticCamera(), direction="sendonly").setCodecPreferences(codecs("video", video_codec))
    if audio:
        pc.addTransceiver(AudioStreamTrack(), direction="sendonly").setCodecPreferences(codecs("audio", "opus"))
    await pc.setLocalDescription(await pc.createOffer())
    headers = {**SDP, **bearer(key or room["stream_key"])}
    response = await client.post(f"/live/rooms/{room['id']}/whip", content=pc.localDescription.sdp, headers=headers)
    if response.status_code == 201:
        await pc.setRemoteDescription(RTCSessionDescription(response.text, "answer"))
    return pc, response


async def eventually(check: Callable[[], Awaitable[bool]] | Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result is True or (not isinstance(result, bool) and await result):  # type: ignore[misc]
            return
        assert time.monotonic() < deadline, f"not within {within} s"
        await asyncio.sleep(0.05)


async def status(client: httpx.AsyncClient, room_id: str) -> str:
    return (await client.get(f"/api/live/rooms/{room_id}")).json()["status"]


def answer_codecs(sdp: str, kind: str) -> set[str]:
    section = sdp.split(f"m={kind}", 1)[1].split("\nm=", 1)[0]
    return {line.split()[1].split("/")[0] for line in section.splitlines() if line.startswith("a=rtpmap:")} - {"rtx"}


@pytest.fixture
async def peers() -> AsyncIterator[list[RTCPeerConnection]]:
    """Peer connections a test opened; all closed afterwards, whatever happened."""
    opened: list[RTCPeerConnection] = []
    yield opened
    await asyncio.gather(*(pc.close() for pc in opened), return_exceptions=True)


@pytest.fixture
def media_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    return lambda **env: make_settings(**{**MEDIA_ENV, **env})


@pytest.fixture
async def media_app(media_settings: Callable[..., Settings], clock: FixedClock) -> AsyncIterator[Litestar]:
    app = create_app(media_settings(), clock=clock)
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def client(media_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(media_app) as client:
        yield client


def media_of(app: Litestar) -> RoomMedia:
    return app.state.media  # type: ignore[no-any-return]


async def new_room(client: httpx.AsyncClient) -> dict[str, Any]:
    """A scheduled room with its stream key (and its host's token as ``host_token``)."""
    _, host = await make_creator(client)
    return {**await schedule_room(client, host, product_ids=[]), "host_token": host}


async def test_vp8_broadcast_reaches_every_viewer_and_a_late_joiner_within_a_second(
    client: httpx.AsyncClient, media_app: Litestar, peers: list[RTCPeerConnection]
) -> None:
    room = await new_room(client)
    publisher, response = await publish(client, room, "VP8")
    peers.append(publisher)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith("application/sdp")
    assert "a=candidate:" in response.text  # non-trickle: the answer holds the candidates
    whip_session = response.headers["location"]
    assert whip_session.startswith(f"/live/rooms/{room['id']}/whip/")
    await eventually(lambda: status_is(client, room["id"], "live"))

    early = [Viewer(), Viewer()]
    peers.extend(v.pc for v in early)
    for viewer in early:
        assert (await viewer.join(client, room["id"])).status_code == 201
    await eventually(lambda: all(len(v.sizes) >= 5 for v in early))
    assert all(set(v.sizes) == {(WIDTH, HEIGHT)} for v in early)

    await asyncio.sleep(1.0)  # the stream is well past its first keyframe
    late = Viewer()
    peers.append(late.pc)
    assert (await late.join(client, room["id"])).status_code == 201
    await eventually(lambda: late.first_frame_after is not None, within=2.0)
    assert late.first_frame_after is not None and late.first_frame_after < 1.0
    assert media_of(media_app).viewer_count(UUID(room["id"])) == 3

    stop = await client.delete(whip_session, headers=bearer(room["stream_key"]))
    assert stop.status_code == 200
    assert await status(client, room["id"]) == "ended"
    await eventually(lambda: media_of(media_app).open_connections == 0)
    assert (await Viewer().join(client, room["id"])).status_code == 404


async def status_is(client: httpx.AsyncClient, room_id: str, expected: str) -> bool:
    return await status(client, room_id) == expected


async def test_h264_and_opus_like_obs_is_forwarded_and_a_vp8_only_viewer_gets_it_re_encoded(
    client: httpx.AsyncClient, media_app: Litestar, peers: list[RTCPeerConnection]
) -> None:
    room = await new_room(client)
    publisher, response = await publish(client, room, "H264", audio=True)
    peers.append(publisher)
    assert response.status_code == 201, response.text
    assert answer_codecs(response.text, "video") == {"H264"}  # one codec, so the publisher sends what we relay
    assert answer_codecs(response.text, "audio") == {"opus"}
    await eventually(lambda: status_is(client, room["id"], "live"))

    forwarded, re_encoded = Viewer(), Viewer(video_codec="VP8")
    peers.extend([forwarded.pc, re_encoded.pc])
    first = await forwarded.join(client, room["id"])
    second = await re_encoded.join(client, room["id"])
    assert first.status_code == second.status_code == 201
    assert answer_codecs(first.text, "video") == {"H264"}
    assert answer_codecs(second.text, "video") == {"VP8"}
    await eventually(lambda: len(forwarded.sizes) >= 5 and len(re_encoded.sizes) >= 5, within=8.0)
    assert set(forwarded.sizes) == set(re_encoded.sizes) == {(WIDTH, HEIGHT)}

    assert forwarded.location is not None
    assert (await client.delete(forwarded.location)).status_code == 200
    assert media_of(media_app).viewer_count(UUID(room["id"])) == 1
    assert (await client.delete(forwarded.location)).status_code == 404
    assert await status(client, room["id"]) == "live"  # a viewer leaving ends nothing


async def test_ending_the_room_from_the_studio_stops_its_broadcast(
    client: httpx.AsyncClient, media_app: Litestar, peers: list[RTCPeerConnection]
) -> None:
    room = await new_room(client)
    publisher, _ = await publish(client, room, "VP8", audio=False)
    viewer = Viewer()
    peers.extend([publisher, viewer.pc])
    await eventually(lambda: status_is(client, room["id"], "live"))
    assert (await viewer.join(client, room["id"])).status_code == 201
    await eventually(lambda: len(viewer.sizes) >= 3)

    ended = await client.post(f"/api/live/rooms/{room['id']}/end", headers=bearer(room["host_token"]))
    assert ended.status_code == 200
    await eventually(lambda: media_of(media_app).open_connections == 0)
    shown = len(viewer.sizes)
    await asyncio.sleep(0.3)
    assert len(viewer.sizes) == shown  # no more video reaches the viewer
    assert (await Viewer().join(client, room["id"])).status_code == 404


async def test_the_room_ends_when_the_publisher_stays_gone_past_the_grace_period(
    client: httpx.AsyncClient, media_app: Litestar, peers: list[RTCPeerConnection]
) -> None:
    room = await new_room(client)
    publisher, response = await publish(client, room, "VP8", audio=False)
    peers.append(publisher)
    assert response.status_code == 201, response.text
    await eventually(lambda: status_is(client, room["id"], "live"))

    await publisher.close()  # the encoder vanishes without ending the session
    gone = time.monotonic()
    await eventually(lambda: status_is(client, room["id"], "ended"), within=10.0)
    assert time.monotonic() - gone >= 0.6  # not before the grace period
    assert media_of(media_app).open_connections == 0


async def test_a_room_left_live_by_a_stopped_relay_ends_once_the_grace_period_passes_after_restart(
    media_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    before = create_app(media_settings(LIVECOMMERCE_PUBLISHER_GRACE="1h"), clock=clock)
    async with asgi_client(before) as client:
        room = await new_room(client)
        await go_live(before, room["id"])  # as the relay does when media arrives; then the process stops
    await before.state.db.dispose()

    restarted = create_app(media_settings(), clock=clock)
    try:
        async with asgi_client(restarted) as client:
            assert await status(client, room["id"]) == "live"  # an encoder that reconnects in time resumes the show
            await eventually(lambda: status_is(client, room["id"], "ended"), within=5.0)
    finally:
        await restarted.state.db.dispose()


async def test_a_publisher_that_never_sends_media_leaves_the_room_scheduled(
    client: httpx.AsyncClient, media_app: Litestar, peers: list[RTCPeerConnection]
) -> None:
    room = await new_room(client)
    headers = {**SDP, **bearer(room["stream_key"])}
    offer = await silent_offer()
    response = await client.post(f"/live/rooms/{room['id']}/whip", content=offer, headers=headers)
    assert response.status_code == 201  # answered, but no peer ever connects
    assert (await Viewer().join(client, room["id"])).status_code == 404  # no media: not live
    await eventually(lambda: media_of(media_app).open_connections == 0, within=5.0)
    assert await status(client, room["id"]) == "scheduled"


async def test_a_viewer_that_never_connects_is_closed(
    client: httpx.AsyncClient, media_app: Litestar, peers: list[RTCPeerConnection], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("live.media.VIEWER_CONNECT_TIMEOUT", 0.5)
    room = await new_room(client)
    publisher, _ = await publish(client, room, "VP8", audio=False)
    peers.append(publisher)
    await eventually(lambda: status_is(client, room["id"], "live"))
    vanished = Viewer()
    await vanished.pc.setLocalDescription(await vanished.pc.createOffer())
    await vanished.pc.close()  # it asks to watch, then is gone before connecting
    answer = await client.post(f"/live/rooms/{room['id']}/whep", content=vanished.pc.localDescription.sdp, headers=SDP)
    assert answer.status_code == 201
    assert media_of(media_app).viewer_count(UUID(room["id"])) == 1
    await eventually(lambda: media_of(media_app).viewer_count(UUID(room["id"])) == 0, within=3.0)
    assert media_of(media_app).open_connections == 1  # the publisher, still live
    assert await status(client, room["id"]) == "live"


async def silent_offer() -> str:
    """A real publisher's offer whose peer is then closed: nobody will ever answer the server's checks."""
    pc = new_pc()
    pc.addTransceiver(SyntheticCamera(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    await pc.close()
    return pc.localDescription.sdp


GARBAGE = [
    ("garbage", "hello there"),
    ("empty", ""),
    ("no media", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"),
    (
        "only data",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
    ),
]


async def test_bad_offers_and_wrong_keys_get_problems_and_leave_nothing_open(
    client: httpx.AsyncClient, media_app: Litestar, peers: list[RTCPeerConnection]
) -> None:
    room = await new_room(client)
    whip, whep = f"/live/rooms/{room['id']}/whip", f"/live/rooms/{room['id']}/whep"
    key = bearer(room["stream_key"])
    offer = await silent_offer()

    assert (await client.post(whip, content=offer, headers={**SDP, **bearer("not-the-key")})).status_code == 401
    assert (await client.post(whip, content=offer, headers=SDP)).status_code == 401
    assert (
        await client.post(whip.replace(room["id"], "nope"), content=offer, headers={**SDP, **key})
    ).status_code == 404
    for name, body in GARBAGE:
        for url, headers in ((whip, {**SDP, **key}), (whep, SDP)):
            answer = await client.post(url, content=body, headers=headers)
            assert answer.status_code == 400, (name, url, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
    assert (await client.post(whip, content=offer, headers={**key, "Content-Type": "text/plain"})).status_code == 415
    huge = offer + "a=x-padding:" + "x" * 70_000 + "\r\n"
    assert (await client.post(whip, content=huge, headers={**SDP, **key})).status_code == 413
    assert media_of(media_app).open_connections == 0
    assert await status(client, room["id"]) == "scheduled"

    publisher, response = await publish(client, room)
    peers.append(publisher)
    assert response.status_code == 201
    await eventually(lambda: status_is(client, room["id"], "live"))
    second, again = await publish(client, room)
    peers.append(second)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/already_publishing"
    for name, body in GARBAGE:
        assert (await client.post(whep, content=body, headers=SDP)).status_code == 400, name
    assert (await client.patch(response.headers["location"], content="a=candidate", headers=key)).status_code == 405
    # A signed-in browser's cookie without a CSRF token is no obstacle: watching changes nothing of the account.
    client.cookies.set("lc_session", "whatever")
    signed_in_viewer = Viewer()
    peers.append(signed_in_viewer.pc)
    assert (await signed_in_viewer.join(client, room["id"])).status_code == 201
    client.cookies.clear()
    assert (await client.delete(response.headers["location"])).status_code == 401  # ending needs the key
    assert media_of(media_app).open_connections == 2  # the publisher and the one viewer


async def test_app_processes_send_whip_and_whep_to_the_media_node_that_owns_the_room(
    media_settings: Callable[..., Settings], clock: FixedClock, peers: list[RTCPeerConnection]
) -> None:
    nodes = "http://127.0.0.1:9001,http://127.0.0.1:9002"
    front = create_app(media_settings(LIVECOMMERCE_MEDIA_NODES=nodes), clock=clock)
    node = create_app(
        media_settings(LIVECOMMERCE_MEDIA_NODES=nodes, LIVECOMMERCE_MEDIA_NODE_URL="http://127.0.0.1:9002"), clock=clock
    )
    assert front.state.media is None  # the app process relays nothing itself
    async with asgi_client(front) as app_client, asgi_client(node) as node_client:
        room = await new_room(app_client)
        whip, whep = f"/live/rooms/{room['id']}/whip", f"/live/rooms/{room['id']}/whep"
        offer = await silent_offer()
        key = bearer(room["stream_key"])

        moved = await app_client.post(whip, content=offer, headers={**SDP, **key})
        assert moved.status_code == 307
        owner = pick_node(("http://127.0.0.1:9001", "http://127.0.0.1:9002"), UUID(room["id"]))
        assert moved.headers["location"] == f"{owner}{whip}"
        assert (await app_client.post(whip, content=offer, headers={**SDP, **bearer("wrong")})).status_code == 401
        assert (await app_client.post(whep, content=offer, headers=SDP)).status_code == 404

        publisher, response = await publish(node_client, room)
        peers.append(publisher)
        assert response.status_code == 201
        assert response.headers["location"].startswith(f"http://127.0.0.1:9002{whip}/")
        await eventually(lambda: status_is(app_client, room["id"], "live"))

        watched = await app_client.post(whep, content=offer, headers=SDP)
        assert watched.status_code == 307
        assert watched.headers["location"] == f"http://127.0.0.1:9002{whep}"
        session = urlsplit(response.headers["location"]).path
        assert (await app_client.delete(session, headers=key)).status_code == 307
        assert (await node_client.delete(session, headers=key)).status_code == 200
        assert await status(app_client, room["id"]) == "ended"
    await front.state.db.dispose()
    await node.state.db.dispose()


async def test_a_media_node_lets_the_app_pages_follow_their_redirect(
    media_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    origin = "http://127.0.0.1:8000"
    settings = media_settings(LIVECOMMERCE_MEDIA_NODE_URL="http://127.0.0.1:9002", LIVECOMMERCE_PUBLIC_URL=origin)
    node = create_app(settings, clock=clock)
    async with asgi_client(node) as node_client:
        preflight = await node_client.options(
            "/live/rooms/x/whep",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code in (200, 204)
        assert preflight.headers["access-control-allow-origin"] == origin
        stranger = await node_client.options(
            "/live/rooms/x/whep",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert stranger.headers.get("access-control-allow-origin") != "https://evil.example"
    await node.state.db.dispose()
