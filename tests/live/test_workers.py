"""Media with several processes: a room's broadcast lives in one, and only a gone relay's rooms are swept.

``livecommerce serve --workers 2`` starts a media process of its own and its workers redirect WHIP/WHEP there, so
every viewer reaches the publisher whichever worker takes the request, and no worker's sweep ends a room another
process relays. The sweep ends a room once its relay process is gone (killed: no heartbeat) past the grace period.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from sqlalchemy import update

from app import create_app
from kernel.clock import FixedClock
from kernel.settings import Settings
from live.forwarding import restrict_host_addresses
from live.models import Relay
from live.relays import RelayHeartbeat, RoomLifecycle, wall_now
from tests.clients import asgi_client
from tests.conftest import TEST_SECRET
from tests.e2e.server import HOST, ROOT, free_port, livecommerce_command, wait_until_healthy
from tests.factories import PASSWORD, bearer, unique_email
from tests.live.peers import SyntheticCamera, codecs, loopback_namespace, new_pc
from tests.live.test_media import MEDIA_ENV, SDP, Viewer, eventually, new_room, status

STARTUP_TIMEOUT_S = 40.0
GRACE_S = 1.0
HEARTBEAT_S = 0.3  # a relay missing 3 beats (0.9 s) counts as gone
SWEEP_ENV = {"LIVECOMMERCE_PUBLISHER_GRACE": "600ms", "LIVECOMMERCE_RELAY_HEARTBEAT": "200ms"}


@contextmanager
def serving_workers(tmp_path: Path, database_url: str, redis_url: str | None) -> Iterator[subprocess.Popen[bytes]]:
    """``livecommerce serve --workers 2`` (no media nodes configured), from this checkout."""
    port, media_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIVECOMMERCE_") and k != "REDIS_URL"},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "LIVECOMMERCE_DATA_DIR": str(tmp_path / "data"),
        "LIVECOMMERCE_SECRET_KEY": TEST_SECRET,
        "LIVECOMMERCE_PUBLIC_URL": f"http://{HOST}:{port}",
        "LIVECOMMERCE_LOG_LEVEL": "INFO",
        "LIVECOMMERCE_SIGNUP_RATE": "1000/minute",
        "LIVECOMMERCE_LOGIN_RATE": "1000/minute",
        "LIVECOMMERCE_PASSWORD_TIME_COST": "1",
        "LIVECOMMERCE_PASSWORD_MEMORY_KIB": "1024",
        "LIVECOMMERCE_ICE_HOST_ADDRESSES": "127.0.0.1",
        "LIVECOMMERCE_PUBLISHER_GRACE": f"{int(GRACE_S * 1000)}ms",
        "LIVECOMMERCE_RELAY_HEARTBEAT": f"{int(HEARTBEAT_S * 1000)}ms",
        **({"REDIS_URL": redis_url} if redis_url else {}),
    }
    log = tmp_path / "serve.log"
    command = [livecommerce_command(), "serve", "--host", HOST, "--port", str(port), "--workers", "2"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--media-port", str(media_port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    process.base_url = f"http://{HOST}:{port}"  # type: ignore[attr-defined]
    process.media_url = f"http://{HOST}:{media_port}"  # type: ignore[attr-defined]
    process.log = log  # type: ignore[attr-defined]
    try:
        wait_until_healthy(process, f"http://{HOST}:{port}", log, STARTUP_TIMEOUT_S)
        yield process
    finally:
        process.terminate()  # serve stops its workers and its media process
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _media_child(serve_pid: int) -> int:
    """The pid of the media process serve started (one of serve's own children)."""
    children = Path(f"/proc/{serve_pid}/task/{serve_pid}/children").read_text().split()
    for pid in children:
        if b"media" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
            return int(pid)
    raise AssertionError(f"no media process among serve's children {children}")


async def _room(base_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as http:
        email = unique_email("host")
        body = {"email": email, "password": PASSWORD, "display_name": "Host", "roles": ["influencer"]}
        assert (await http.post("/api/auth/signup", json=body)).status_code == 201
        http.cookies.clear()  # bearer tokens from here on (a session cookie would need a CSRF token)
        login = await http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        http.cookies.clear()
        token = login.json()["token"]
        room = await http.post(
            "/api/live/rooms", headers=bearer(token), json={"title": "Two workers", "product_ids": []}
        )
        assert room.status_code == 201, room.text
        return room.json()


async def _publish(base_url: str, room: dict[str, Any]) -> tuple[RTCPeerConnection, str]:
    """Publish like OBS: to the app, then to where its 307 says, with the stream key (an encoder resends it)."""
    pc = new_pc()
    pc.addTransceiver(SyntheticCamera(), direction="sendonly").setCodecPreferences(codecs("video", "VP8"))
    await pc.setLocalDescription(await pc.createOffer())
    headers = {**SDP, **bearer(room["stream_key"])}
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as http:
        moved = await http.post(f"/live/rooms/{room['id']}/whip", content=pc.localDescription.sdp, headers=headers)
        assert moved.status_code == 307, moved.text
        answered = await http.post(moved.headers["location"], content=pc.localDescription.sdp, headers=headers)
    assert answered.status_code == 201, answered.text
    await pc.setRemoteDescription(RTCSessionDescription(answered.text, "answer"))
    return pc, moved.headers["location"]


async def _status(base_url: str, room_id: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, trust_env=False) as http:  # a new connection: any worker
        return await status(http, room_id)


async def _watch(base_url: str, room_id: str) -> Viewer:
    viewer = Viewer()
    # A client of its own per viewer, so the kernel hands the connections to either worker.
    async with httpx.AsyncClient(base_url=base_url, trust_env=False, follow_redirects=True) as http:
        response = await viewer.join(http, room_id)
    assert response.status_code == 201, response.text
    return viewer


@pytest.mark.slow
@pytest.mark.usefixtures(loopback_namespace.__name__)
async def test_with_two_workers_every_viewer_gets_video_and_only_a_killed_media_process_s_room_is_swept(
    tmp_path: Path, database_url: str, redis_url: str | None
) -> None:
    restrict_host_addresses(("127.0.0.1",))  # this process's peers offer loopback, as the servers' do
    opened: list[RTCPeerConnection] = []
    with serving_workers(tmp_path, database_url, redis_url) as serve:
        base, media = serve.base_url, serve.media_url  # type: ignore[attr-defined]
        try:
            room = await _room(base)
            publisher, whip = await _publish(base, room)
            opened.append(publisher)
            assert whip == f"{media}/live/rooms/{room['id']}/whip"
            await eventually(lambda: _status_is(base, room["id"], "live"), within=10.0)

            viewers = []
            for _ in range(6):  # sent one after another, on new connections: both workers take some
                viewers.append(await _watch(base, room["id"]))
                opened.append(viewers[-1].pc)
            await eventually(lambda: all(len(v.sizes) >= 5 for v in viewers), within=15.0)

            # Several grace periods and stale times pass: every worker's sweep has run many times.
            for _ in range(6):
                await asyncio.sleep(GRACE_S / 2)
                assert await _status(base, room["id"]) == "live"
            shown = [len(v.sizes) for v in viewers]
            await eventually(lambda: all(len(v.sizes) > n for v, n in zip(viewers, shown, strict=True)))

            os.kill(_media_child(serve.pid), signal.SIGKILL)  # the relay dies without a word to anyone
            killed = time.monotonic()
            await eventually(lambda: _status_is(base, room["id"], "ended"), within=15.0)
            assert time.monotonic() - killed >= GRACE_S  # a reconnecting encoder would have had its grace
            # serve starts the media process again: a new show goes live through it.
            await eventually(lambda: _answers(f"{media}/healthz"), within=STARTUP_TIMEOUT_S)
            again = await _room(base)
            second, _ = await _publish(base, again)
            opened.append(second)
            await eventually(lambda: _status_is(base, again["id"], "live"), within=10.0)
        finally:
            await asyncio.gather(*(pc.close() for pc in opened), return_exceptions=True)
    assert b"media.orphan_ended" in serve.log.read_bytes()  # type: ignore[attr-defined]


async def _answers(url: str) -> bool:
    async with httpx.AsyncClient(trust_env=False) as http:
        try:
            return (await http.get(url)).status_code == 200
        except httpx.HTTPError:
            return False


async def _status_is(base_url: str, room_id: str, expected: str) -> bool:
    return await _status(base_url, room_id) == expected


@pytest.fixture
def sweep_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    return lambda **env: make_settings(**{**MEDIA_ENV, **SWEEP_ENV, **env})


async def test_a_room_is_never_swept_while_its_relay_lives_and_is_once_its_relay_stops_renewing(
    sweep_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    app = create_app(sweep_settings(), clock=clock)  # its relay and its sweep are "another process" here
    settings = app.state.settings.live
    lifecycle = RoomLifecycle(app.state.db, clock, app.state.bus, settings)
    alive, killed = RelayHeartbeat(app.state.db, settings), RelayHeartbeat(app.state.db, settings)
    beating = asyncio.create_task(_beat_until_killed(killed))
    try:
        async with asgi_client(app) as client:
            await alive.start()
            kept, lost = await new_room(client), await new_room(client)
            await lifecycle.go_live(UUID(kept["id"]), alive.id)
            await lifecycle.go_live(UUID(lost["id"]), killed.id)
            await asyncio.sleep(1.5)  # past stale + grace, many sweeps
            assert await status(client, kept["id"]) == await status(client, lost["id"]) == "live"

            beating.cancel()  # beats stop; its row stays, as a SIGKILLed process leaves it
            crashed = time.monotonic()
            await eventually(lambda: _ended(client, lost["id"]), within=5.0)
            # Stale (3 beats) and then the grace, counted from the last beat, which came up to one beat before the kill.
            assert time.monotonic() - crashed >= 0.6 + 0.6 - 0.2
            await asyncio.sleep(1.5)
            assert await status(client, kept["id"]) == "live"

            await alive.stop()  # a clean shutdown removes its row: the grace starts at once
            stopped = time.monotonic()
            await eventually(lambda: _ended(client, kept["id"]), within=5.0)
            assert time.monotonic() - stopped >= 0.6
    finally:
        beating.cancel()
        await alive.stop()
        await app.state.db.dispose()


async def _beat_until_killed(relay: RelayHeartbeat) -> None:
    """A relay process's heartbeat, until the task is cancelled (the process killed: nothing cleans up)."""
    while True:
        await relay.beat()
        await asyncio.sleep(0.2)


async def test_a_relay_cut_off_from_the_database_counts_as_gone_once_stale(
    sweep_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    app = create_app(sweep_settings(), clock=clock)
    settings = app.state.settings.live
    lifecycle = RoomLifecycle(app.state.db, clock, app.state.bus, settings)
    async with asgi_client(app) as client:
        room = await new_room(client)
        relay = RelayHeartbeat(app.state.db, settings)
        await relay.beat()
        async with app.state.db.transaction() as session:  # last seen long ago
            last_seen = wall_now().replace(year=2020)
            await session.execute(update(Relay).where(Relay.id == relay.id).values(seen_at=last_seen))
        await lifecycle.go_live(UUID(room["id"]), relay.id)
        await eventually(lambda: _ended(client, room["id"]), within=5.0)
    await app.state.db.dispose()


async def _ended(client: httpx.AsyncClient, room_id: str) -> bool:
    return await status(client, room_id) == "ended"
