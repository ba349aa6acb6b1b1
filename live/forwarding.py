"""Every reliance on aiortc's (and aioice's) internals, in one place: forwarding encoded media.

aiortc always decodes what a receiver gets and encodes what a sender sends, once per viewer. A relay does not need
either: a publisher's receiver here hands its track the depayloaded frame as an ``av.Packet`` (pts = the frame's
RTP timestamp, time_base = 1/clock rate), and aiortc's sender only re-packetises a track that yields packets.
That costs ~1 % of a core per viewer instead of ~17 % for re-encoding H264.

aiortc is pinned exactly in pyproject.toml; ``tests/live/test_forwarding.py`` checks every name used here and
fails with a message saying what moved when aiortc changes. Nothing outside this module touches a private name.
"""

from __future__ import annotations

import asyncio
import logging
import queue
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import aioice.ice
import av
from aiortc import RTCRtpCodecCapability, RTCRtpCodecParameters, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import CODECS, get_capabilities, get_decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcpeerconnection import find_common_codecs

log = logging.getLogger("livecommerce.media")

AIORTC_VERSION = "1.16.0"
# aiortc's name-mangled receiver attributes this module reads or replaces.
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"
_RTX_SSRC = "_RTCRtpReceiver__rtx_ssrc"


class AiortcChanged(RuntimeError):
    """aiortc no longer has the internals forwarding relies on: re-check this module against its source."""


def relayable_codecs(kind: str, offered: Sequence[RTCRtpCodecParameters]) -> list[RTCRtpCodecParameters]:
    """The codecs aiortc would negotiate for ``offered`` (one SDP media section's), in the offer's order."""
    return [c for c in find_common_codecs(CODECS[kind], list(offered)) if c.mimeType.lower() != f"{kind}/rtx"]


def capability(codec: RTCRtpCodecParameters) -> RTCRtpCodecCapability:
    """The capability ``setCodecPreferences`` accepts for a negotiated codec."""
    return RTCRtpCodecCapability(
        mimeType=codec.mimeType, clockRate=codec.clockRate, channels=codec.channels, parameters=codec.parameters
    )


def preferences(codec: RTCRtpCodecParameters) -> list[RTCRtpCodecCapability]:
    """Only ``codec`` (and RTX for video, so lost packets can still be resent)."""
    kind = codec.mimeType.split("/")[0].lower()
    rtx = [c for c in get_capabilities(kind).codecs if c.mimeType.lower() == f"{kind}/rtx"]
    return [capability(codec), *rtx]


def same_codec(a: RTCRtpCodecParameters, b: RTCRtpCodecParameters) -> bool:
    return a.mimeType.lower() == b.mimeType.lower() and a.clockRate == b.clockRate and a.parameters == b.parameters


class _PacketQueue(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: complete frames go to the track as packets, at once.

    aiortc's receiver puts ``(codec, JitterFrame)`` here from the event loop and ``None`` when it stops. Frames skip
    the decoder thread entirely; ``None`` still reaches it, so the thread ends and ends the track as before.
    """

    def __init__(self, track_queue: asyncio.Queue[Any], on_packet: Callable[[RTCRtpCodecParameters], None]) -> None:
        super().__init__()
        self._track_queue = track_queue
        self._on_packet = on_packet

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(None, block, timeout)
            return
        codec, frame = item
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = Fraction(1, codec.clockRate)
        self._track_queue.put_nowait(packet)
        self._on_packet(codec)


def forward_encoded(receiver: RTCRtpReceiver, on_packet: Callable[[RTCRtpCodecParameters], None]) -> None:
    """Make ``receiver``'s track yield encoded ``av.Packet`` s instead of decoded frames.

    Call it after ``setRemoteDescription`` (the track exists) and before the connection starts the receiver.
    ``on_packet(codec)`` runs in the event loop for every complete frame (the relay notices media arriving).
    """
    track = receiver.track
    if track is None or not isinstance(getattr(track, "_queue", None), asyncio.Queue):
        raise AiortcChanged("RTCRtpReceiver.track no longer holds an asyncio.Queue in _queue")
    if not isinstance(getattr(receiver, _DECODER_QUEUE, None), queue.Queue):
        raise AiortcChanged(f"RTCRtpReceiver no longer has a queue.Queue in {_DECODER_QUEUE}")
    if getattr(receiver, _DECODER_THREAD, None) is not None:
        raise RuntimeError("forward_encoded() must run before the receiver starts")
    setattr(receiver, _DECODER_QUEUE, _PacketQueue(track._queue, on_packet))


async def request_keyframe(receiver: RTCRtpReceiver) -> None:
    """Ask the publisher for a keyframe (RTCP PLI) on each media SSRC the receiver hears (not RTX ones)."""
    rtx = getattr(receiver, _RTX_SSRC, {})
    for source in receiver.getSynchronizationSources():
        if source.source not in rtx:
            await receiver._send_rtcp_pli(source.source)


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Pass a viewer's PLI/FIR to ``callback``: a forwarding sender has no encoder that could make a keyframe."""
    sender._send_keyframe = callback  # type: ignore[method-assign]


class DecodedTrack(MediaStreamTrack):
    """Decodes a forwarded packet track, for the viewers that cannot take the publisher's codec (re-encoding).

    One per room and kind, shared through a relay: decoding is paid once, each such viewer pays its own encoder.
    """

    def __init__(self, source: MediaStreamTrack, codec: RTCRtpCodecParameters, on_error: Callable[[], None]) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source
        self._decoder = get_decoder(codec)
        self._on_error = on_error
        self._ready: list[av.frame.Frame] = []

    async def recv(self) -> av.frame.Frame:
        loop = asyncio.get_running_loop()
        while not self._ready:
            packet = await self._source.recv()
            frame = JitterFrame(bytes(packet), packet.pts)
            try:
                self._ready = await loop.run_in_executor(None, self._decoder.decode, frame)
            except av.FFmpegError:
                self._on_error()  # until the next keyframe nothing decodes: ask for one
        return self._ready.pop(0)

    def stop(self) -> None:
        super().stop()
        self._source.stop()


# ICE host addresses ---------------------------------------------------------------------------------------------
_original_host_addresses = aioice.ice.get_host_addresses
_allowed_addresses: tuple[str, ...] = ()


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if not _allowed_addresses:
        return _original_host_addresses(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
    return [a for a in _allowed_addresses if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]


def restrict_host_addresses(addresses: Sequence[str]) -> None:
    """Offer only ``addresses`` as ICE host candidates, process-wide (empty: aioice's default, every interface
    but loopback). aiortc has no setting for this; aioice asks ``aioice.ice.get_host_addresses`` when gathering."""
    global _allowed_addresses
    _allowed_addresses = tuple(addresses)
    aioice.ice.get_host_addresses = _host_addresses
