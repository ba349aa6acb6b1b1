"""The media relay: one publisher (WHIP) per room, its encoded packets forwarded to every viewer (WHEP).

Per room: the publisher's ``RTCPeerConnection`` answers with one codec per kind (the publisher's first choice that
aiortc supports), its receivers yield encoded packets (``live.forwarding``), a ``MediaRelay(buffered=True)`` fans
them out, and a ``MediaBlackhole`` drains them even with no viewer (an undrained track grows ~10 MB/s). A viewer
that offers the publisher's codec gets packets re-packetised only; one that cannot (VP8-only while the publisher
sends H264) gets its own decode and encode. Keyframe requests reach the publisher when a viewer connects and on
its PLI, at most one per ``live.broadcast.KEYFRAME_INTERVAL``, so a late joiner sees a picture at once.

The room goes live when the first media packet arrives, recording this relay as its holder, and ends when the
host deletes the session or the publisher's connection stays failed or disconnected past
``LiveSettings.publisher_grace``; a room whose relay process is gone is ended by a sweep (``live.relays``).
Every peer connection is registered (``live.peers``) and closed on failure and by ``close_all()`` at shutdown.
Nothing here knows about HTTP.

ICE: ``LiveSettings.ice_servers`` (STUN/TURN) configure every peer connection (an empty list, never aiortc's
default of Google's STUN server). ``LiveSettings.ice_host_addresses`` has no aiortc option behind it:
``live.forwarding.restrict_host_addresses`` replaces aioice's host address lookup for the whole process, so every
peer connection here offers only those addresses as host candidates (empty: aioice's default, every interface but
loopback). Behind NAT, offer the public address or a TURN server; aiortc cannot be given a port range.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from functools import partial
from typing import Any
from uuid import UUID

import msgspec
from litestar.channels import ChannelsPlugin

from kernel.errors import Conflict, DomainError, NotFound
from kernel.settings import LiveSettings
from kernel.workers import Worker
from live.broadcast import Broadcast, Session
from live.events import ROOMS_TOPIC, RoomStatusChanged
from live.forwarding import (
    DecodedTrack,
    forward_encoded,
    on_keyframe_request,
    preferences,
    restrict_host_addresses,
    same_codec,
)
from live.models import RoomStatus
from live.offers import parse_ice_server, parse_offer
from live.peers import PeerConnections, accept, answer
from live.relays import RelayHeartbeat, RoomLifecycle

log = logging.getLogger("livecommerce.media")
logging.getLogger("aioice").setLevel(logging.WARNING)  # it logs every connectivity check at INFO

VIEWER_CONNECT_TIMEOUT = 20.0  # a viewer whose connection is not up by then is closed
LOST_STATES = ("failed", "disconnected", "closed")
SUBSCRIBE_TIMEOUT = 5.0  # seconds start-up waits for the room status subscription


class RoomMedia:
    """Every room's broadcast in this process; lives in app state, ``close_all()`` at shutdown."""

    def __init__(self, settings: LiveSettings, lifecycle: RoomLifecycle, heartbeat: RelayHeartbeat) -> None:
        restrict_host_addresses(settings.ice_host_addresses)
        self._pcs = PeerConnections([parse_ice_server(entry) for entry in settings.ice_servers])
        self._grace = settings.publisher_grace.total_seconds()
        self._lifecycle = lifecycle
        self._heartbeat = heartbeat
        self._broadcasts: dict[UUID, Broadcast] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rooms_ready = asyncio.Event()
        self._listener: Worker | None = None

    @property
    def relay_id(self) -> UUID:
        """This relay's id, recorded on the rooms it holds (``live.relays``)."""
        return self._heartbeat.id

    def relays(self, room_id: UUID) -> bool:
        """Whether this process holds a broadcast of ``room_id`` (media may not have arrived yet)."""
        return room_id in self._broadcasts

    async def start(self, channels: ChannelsPlugin) -> None:
        """Register this relay, and follow the rooms' status, so a room ended elsewhere (the host's End button, an
        admin, a sweep) stops its broadcast.

        Subscribed before the app serves; a bus that cannot subscribe within ``SUBSCRIBE_TIMEOUT`` is logged and
        start-up goes on (such a broadcast then ends when its encoder stops, or past the grace period).
        """
        await self._heartbeat.start()
        self._listener = Worker("media-rooms", partial(self._follow_rooms, channels))
        if not await self._listener.started(self._rooms_ready, SUBSCRIBE_TIMEOUT):
            log.warning("media.not_subscribed")

    async def _follow_rooms(self, channels: ChannelsPlugin) -> None:
        decoder = msgspec.json.Decoder(RoomStatusChanged)
        try:
            async with channels.start_subscription([ROOMS_TOPIC]) as subscriber:
                self._rooms_ready.set()
                async for raw in subscriber.iter_events():
                    try:
                        changed = decoder.decode(raw)
                        broadcast = self._broadcasts.get(UUID(changed.room_id))
                        if changed.status == RoomStatus.ENDED and broadcast is not None:
                            log.info("media.room_ended", extra={"room_id": changed.room_id})
                            await self._teardown(broadcast)
                    except Exception:  # one bad event must not stop following every later room
                        log.exception("media.room_event_failed")
        except Exception:
            log.exception("media.room_listener_stopped")

    # Publishing (WHIP) ------------------------------------------------------------------------------------------
    async def publish(self, room_id: UUID, offer: str) -> Session:
        """Answer a publisher's offer; 409 while another publisher of this room is connected."""
        codecs = parse_offer(offer, sending=True)
        current = self._broadcasts.get(room_id)
        if current is not None:
            if current.pc.connectionState not in LOST_STATES:
                raise Conflict("already_publishing", "This room is already being broadcast; end that first.")
            # The encoder reconnects after a network drop (OBS does): the new connection takes over.
            await self._teardown(current)
        pc = self._pcs.new()
        broadcast = Broadcast(room_id, uuid.uuid4().hex, pc)
        self._broadcasts[room_id] = broadcast  # at once, so a concurrent second publisher gets its 409
        try:
            for kind, offered in codecs.items():
                transceiver = pc.addTransceiver(kind, direction="recvonly")
                transceiver.setCodecPreferences(preferences(offered[0]))
                broadcast.codecs[kind] = offered[0]
            await accept(pc, offer)
            for transceiver in pc.getTransceivers():
                receiver = transceiver.receiver
                forward_encoded(receiver, lambda _codec, b=broadcast: self._media_arrived(b))
                broadcast.tracks[transceiver.kind] = receiver.track
                broadcast.receivers[transceiver.kind] = receiver
                broadcast.blackhole.addTrack(broadcast.relay.subscribe(receiver.track, buffered=False))
            sdp = await answer(pc)
        except BaseException:
            del self._broadcasts[room_id]
            await self._pcs.close(pc)
            raise
        await broadcast.blackhole.start()
        broadcast.grace = asyncio.get_running_loop().call_later(self._grace, self._publisher_lost, broadcast)

        @pc.on("connectionstatechange")
        def _publisher_state() -> None:
            if self._broadcasts.get(room_id) is not broadcast:
                return
            if pc.connectionState == "connected" and broadcast.grace is not None:
                broadcast.grace.cancel()
                broadcast.grace = None
            elif pc.connectionState in LOST_STATES and broadcast.grace is None:
                log.info("media.publisher_lost", extra={"room_id": str(room_id), "state": pc.connectionState})
                broadcast.grace = asyncio.get_running_loop().call_later(self._grace, self._publisher_lost, broadcast)

        log.info("media.publishing", extra={"room_id": str(room_id), "codecs": sorted(broadcast.codecs)})
        return Session(broadcast.session_id, sdp)

    async def stop_publishing(self, room_id: UUID, session_id: str) -> None:
        """The host ends the broadcast (WHIP DELETE); the caller ends the room."""
        broadcast = self._broadcasts.get(room_id)
        if broadcast is None or broadcast.session_id != session_id:
            raise NotFound("session_not_found", "There is no such broadcast session (it may have ended).")
        await self._teardown(broadcast)

    def _media_arrived(self, broadcast: Broadcast) -> None:
        if broadcast.live:
            return
        broadcast.live = True
        log.info("media.arrived", extra={"room_id": str(broadcast.room_id)})
        self._spawn(self._go_live(broadcast))

    async def _go_live(self, broadcast: Broadcast) -> None:
        try:
            await self._lifecycle.go_live(broadcast.room_id, self._heartbeat.id)
        except DomainError as exc:  # the room ended meanwhile: this broadcast has no room to go to
            log.warning("media.go_live_refused", extra={"room_id": str(broadcast.room_id), "code": exc.code})
            await self._teardown(broadcast)

    def _publisher_lost(self, broadcast: Broadcast) -> None:
        broadcast.grace = None
        if self._broadcasts.get(broadcast.room_id) is not broadcast:
            return
        log.info("media.publisher_gone", extra={"room_id": str(broadcast.room_id), "was_live": broadcast.live})
        self._spawn(self._end_lost(broadcast))

    async def _end_lost(self, broadcast: Broadcast) -> None:
        await self._teardown(broadcast)
        if broadcast.live:  # a show that never started stays scheduled: the encoder may simply retry
            await self._lifecycle.end(broadcast.room_id)

    # Watching (WHEP) --------------------------------------------------------------------------------------------
    async def watch(self, room_id: UUID, offer: str) -> Session:
        """Answer a viewer's offer with the room's tracks; 404 while no media flows in this room."""
        codecs = parse_offer(offer, sending=False)
        broadcast = self._broadcasts.get(room_id)
        if broadcast is None or not broadcast.live:
            raise NotFound("room_not_live", "This room is not live right now.")
        pc = self._pcs.new()
        session_id = uuid.uuid4().hex
        forwarded = []
        try:
            for kind, offered in codecs.items():
                if kind not in broadcast.tracks:
                    continue
                published = broadcast.codecs[kind]
                if any(same_codec(published, codec) for codec in offered):
                    track = broadcast.relay.subscribe(broadcast.tracks[kind], buffered=True)
                    transceiver = pc.addTransceiver(track, direction="sendonly")
                    transceiver.setCodecPreferences(preferences(published))
                    forwarded.append(transceiver)
                else:  # this viewer cannot take the publisher's codec: decode once for it and let aiortc encode
                    source = broadcast.relay.subscribe(broadcast.tracks[kind], buffered=True)
                    decoded = DecodedTrack(source, published, on_error=broadcast.request_keyframe)
                    pc.addTransceiver(decoded, direction="sendonly")
            await accept(pc, offer)
            sdp = await answer(pc)
        except BaseException:
            await self._pcs.close(pc)
            raise
        for transceiver in forwarded:
            if transceiver.kind == "video":
                on_keyframe_request(transceiver.sender, broadcast.request_keyframe)
        broadcast.viewers[session_id] = pc
        broadcast.deadlines[session_id] = asyncio.get_running_loop().call_later(
            VIEWER_CONNECT_TIMEOUT, lambda: self._spawn(self._drop_viewer(broadcast, session_id))
        )

        @pc.on("connectionstatechange")
        def _viewer_state() -> None:
            if pc.connectionState == "connected":
                if (deadline := broadcast.deadlines.pop(session_id, None)) is not None:
                    deadline.cancel()
                broadcast.request_keyframe()  # its decoder needs a keyframe to start from
            elif pc.connectionState in ("failed", "closed"):
                self._spawn(self._drop_viewer(broadcast, session_id))

        return Session(session_id, sdp)

    async def stop_watching(self, room_id: UUID, session_id: str) -> None:
        broadcast = self._broadcasts.get(room_id)
        if broadcast is None or session_id not in broadcast.viewers:
            raise NotFound("session_not_found", "There is no such viewing session (it may have ended).")
        await self._drop_viewer(broadcast, session_id)

    @property
    def open_connections(self) -> int:
        """Peer connections not yet closed (publishers and viewers): 0 once every session has ended."""
        return len(self._pcs)

    def viewer_count(self, room_id: UUID) -> int:
        broadcast = self._broadcasts.get(room_id)
        return len(broadcast.viewers) if broadcast is not None else 0

    async def _drop_viewer(self, broadcast: Broadcast, session_id: str) -> None:
        if (deadline := broadcast.deadlines.pop(session_id, None)) is not None:
            deadline.cancel()
        pc = broadcast.viewers.pop(session_id, None)
        if pc is not None:
            await self._pcs.close(pc)

    async def _teardown(self, broadcast: Broadcast) -> None:
        """Close the publisher and its viewers (their tracks end with the publisher's)."""
        if self._broadcasts.get(broadcast.room_id) is broadcast:
            del self._broadcasts[broadcast.room_id]
        broadcast.cancel_timers()
        viewers = list(broadcast.viewers.values())
        broadcast.viewers.clear()
        await broadcast.blackhole.stop()
        await asyncio.gather(self._pcs.close(broadcast.pc), *(self._pcs.close(pc) for pc in viewers))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("media.task_failed", exc_info=exc)

    async def close_all(self) -> None:
        """Shutdown: close every peer connection. Rooms stay live: an encoder that reconnects (to this relay
        restarted, or another) within the grace period resumes them; otherwise a sweep ends them."""
        if self._listener is not None:
            await self._listener.stop()
        for broadcast in list(self._broadcasts.values()):
            broadcast.cancel_timers()
            await broadcast.blackhole.stop()
        self._broadcasts.clear()
        await self._pcs.close_all()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self._heartbeat.stop()
