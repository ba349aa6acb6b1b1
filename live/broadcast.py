"""A room's broadcast as the relay holds it: the publisher's connection, its relayed tracks and its viewers.

Keyframe requests are paced here: a viewer joining or losing packets asks for one, and the publisher gets at most
one per ``KEYFRAME_INTERVAL``, so a late joiner sees a picture at once without flooding the encoder.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from uuid import UUID

from aiortc import RTCPeerConnection, RTCRtpCodecParameters, RTCRtpReceiver
from aiortc.contrib.media import MediaBlackhole, MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from live.forwarding import request_keyframe

KEYFRAME_INTERVAL = 0.3  # seconds between keyframe requests passed on to a publisher (joiners wait at most this)


@dataclass(frozen=True)
class Session:
    """An answered offer: the session's id (its ``Location``) and the SDP answer, ICE candidates included."""

    id: str
    answer: str


@dataclass(eq=False)
class Broadcast:
    """One room's publisher, its relayed tracks and its viewers."""

    room_id: UUID
    session_id: str
    pc: RTCPeerConnection
    relay: MediaRelay = field(default_factory=MediaRelay)
    blackhole: MediaBlackhole = field(default_factory=MediaBlackhole)
    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)
    codecs: dict[str, RTCRtpCodecParameters] = field(default_factory=dict)
    receivers: dict[str, RTCRtpReceiver] = field(default_factory=dict)
    viewers: dict[str, RTCPeerConnection] = field(default_factory=dict)
    deadlines: dict[str, asyncio.TimerHandle] = field(default_factory=dict)  # viewers not connected yet
    live: bool = False  # media has arrived
    grace: asyncio.TimerHandle | None = None
    _last_keyframe: float = float("-inf")
    _keyframe_pending: asyncio.TimerHandle | None = None
    _requests: set[asyncio.Future[None]] = field(default_factory=set)

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe now, or once the interval since the last request has passed."""
        if self._keyframe_pending is not None:
            return
        loop = asyncio.get_running_loop()
        wait = self._last_keyframe + KEYFRAME_INTERVAL - loop.time()
        if wait > 0:
            self._keyframe_pending = loop.call_later(wait, self._send_keyframe_request)
        else:
            self._send_keyframe_request()

    def _send_keyframe_request(self) -> None:
        self._keyframe_pending = None
        self._last_keyframe = asyncio.get_running_loop().time()
        if (receiver := self.receivers.get("video")) is not None:
            task = asyncio.ensure_future(request_keyframe(receiver))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)

    def cancel_timers(self) -> None:
        for handle in (self.grace, self._keyframe_pending, *self.deadlines.values()):
            if handle is not None:
                handle.cancel()
        self.grace = self._keyframe_pending = None
        self.deadlines.clear()
