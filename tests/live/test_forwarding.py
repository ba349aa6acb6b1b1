"""The aiortc internals ``live.forwarding`` relies on are still there, and forwarding still works end to end.

When one of these fails after an aiortc upgrade, read the message: it names what moved. Re-read aiortc's
``rtcrtpreceiver.py`` / ``rtcrtpsender.py`` and adapt ``live/forwarding.py`` before unpinning.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import queue
from collections.abc import Callable
from fractions import Fraction

import aioice.ice
import aiortc
import av
import pytest
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, rtcrtpreceiver, rtcrtpsender
from aiortc.codecs import get_decoder, get_encoder
from aiortc.contrib.media import MediaRelay
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcpeerconnection import find_common_codecs

from live import forwarding
from live.forwarding import (
    AIORTC_VERSION,
    forward_encoded,
    on_keyframe_request,
    preferences,
    relayable_codecs,
    request_keyframe,
    restrict_host_addresses,
)
from tests.live.peers import HEIGHT, WIDTH, SyntheticCamera, codecs, loopback_namespace, new_pc

CHANGED = "aiortc changed under live/forwarding.py: "


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


def source(function: object) -> str:
    return inspect.getsource(function)  # type: ignore[arg-type]


def test_aiortc_is_the_version_forwarding_was_written_for() -> None:
    assert aiortc.__version__ == AIORTC_VERSION, (
        f"{CHANGED}aiortc is {aiortc.__version__}, forwarding was checked against {AIORTC_VERSION}; re-check "
        "the receiver's decoder queue, the sender's pack path and _send_keyframe, then update AIORTC_VERSION"
    )


def test_the_receiver_hands_complete_frames_to_a_replaceable_decoder_queue() -> None:
    handle = source(RTCRtpReceiver._handle_rtp_packet)
    assert "self.__decoder_queue.put((codec, encoded_frame))" in handle, (
        f"{CHANGED}RTCRtpReceiver._handle_rtp_packet no longer puts (codec, encoded_frame) on __decoder_queue"
    )
    assert "encoded_frame.timestamp = self.__timestamp_mapper.map(" in handle, (
        f"{CHANGED}frame timestamps are no longer mapped to start at 0 before decoding"
    )
    receive = source(RTCRtpReceiver.receive)
    assert "self.__decoder_queue," in receive and "self._track._queue," in receive, (
        f"{CHANGED}RTCRtpReceiver.receive no longer starts its decoder thread with __decoder_queue and track._queue"
    )
    assert parameters(rtcrtpreceiver.decoder_worker) == ["loop", "input_q", "output_q", "decode_error"], (
        f"{CHANGED}decoder_worker's arguments changed"
    )
    worker = source(rtcrtpreceiver.decoder_worker)
    assert "if task is None:" in worker and "output_q.put(None)" in worker, (
        f"{CHANGED}decoder_worker no longer ends the track when it takes None"
    )
    stop = source(RTCRtpReceiver._RTCRtpReceiver__stop_decoder)  # type: ignore[attr-defined]
    assert "self.__decoder_queue.put(None)" in stop, f"{CHANGED}stopping the receiver no longer queues None"
    assert parameters(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"], f"{CHANGED}_send_rtcp_pli moved"
    assert inspect.iscoroutinefunction(RTCRtpReceiver._send_rtcp_pli), f"{CHANGED}_send_rtcp_pli is not async"
    assert "self.__rtx_ssrc[encoding.rtx.ssrc] = encoding.ssrc" in receive, f"{CHANGED}__rtx_ssrc moved"


async def test_a_new_receiver_has_the_attributes_forwarding_replaces() -> None:
    pc = new_pc()
    try:
        receiver = pc.addTransceiver("video", direction="recvonly").receiver
        assert isinstance(getattr(receiver, forwarding._DECODER_QUEUE, None), queue.Queue), (
            f"{CHANGED}RTCRtpReceiver has no queue.Queue in {forwarding._DECODER_QUEUE}"
        )
        assert getattr(receiver, forwarding._DECODER_THREAD, "missing") is None, (
            f"{CHANGED}RTCRtpReceiver has no {forwarding._DECODER_THREAD} (None until receive())"
        )
        assert isinstance(getattr(receiver, forwarding._RTX_SSRC, None), dict), f"{CHANGED}no {forwarding._RTX_SSRC}"
        assert isinstance(rtcrtpreceiver.RemoteStreamTrack("video")._queue, asyncio.Queue), (
            f"{CHANGED}RemoteStreamTrack no longer reads from an asyncio.Queue in _queue"
        )
    finally:
        await pc.close()


def test_the_sender_packs_packets_and_asks_itself_for_keyframes() -> None:
    next_frame = source(RTCRtpSender._next_encoded_frame)
    assert "self.__encoder.pack(data)" in next_frame and "isinstance(data, Frame)" in next_frame, (
        f"{CHANGED}RTCRtpSender no longer only packetises a track's av.Packet"
    )
    rtcp = source(RTCRtpSender._handle_rtcp_packet)
    assert "RTCP_PSFB_PLI" in rtcp and "self._send_keyframe()" in rtcp, (
        f"{CHANGED}a viewer's PLI no longer calls RTCRtpSender._send_keyframe()"
    )
    assert parameters(RTCRtpSender._send_keyframe) == ["self"], f"{CHANGED}_send_keyframe's arguments changed"
    assert "get_encoder" in vars(rtcrtpsender), f"{CHANGED}the sender no longer picks encoders with get_encoder"


@pytest.mark.parametrize("mime", ["video/VP8", "video/H264", "audio/opus"])
def test_every_relayed_codec_can_pack_a_packet_with_its_timestamp(mime: str) -> None:
    kind = mime.split("/")[0]
    codec = next(c for c in relayable_codecs(kind, forwarding.CODECS[kind]) if c.mimeType == mime)
    packet = av.Packet(b"\x00\x00\x00\x01\x65" + b"\x10" * 2000 if "H264" in mime else b"\x10" * 2000)
    packet.pts, packet.time_base = 3000, Fraction(1, codec.clockRate)
    payloads, timestamp = get_encoder(codec).pack(packet)
    assert payloads and timestamp == 3000, f"{CHANGED}{mime} encoder's pack() changed"
    assert parameters(get_decoder) == ["codec"] and parameters(JitterFrame) == ["data", "timestamp"]


def test_codec_negotiation_and_host_address_hooks_are_where_forwarding_calls_them() -> None:
    assert parameters(find_common_codecs) == ["local_codecs", "remote_codecs"], f"{CHANGED}find_common_codecs moved"
    assert parameters(aioice.ice.get_host_addresses) == ["use_ipv4", "use_ipv6"], (
        f"{CHANGED}aioice's get_host_addresses changed"
    )
    assert "addresses = get_host_addresses(" in source(aioice.ice.Connection.gather_candidates), (
        f"{CHANGED}aioice no longer gathers host candidates through get_host_addresses"
    )
    try:
        restrict_host_addresses(("127.0.0.1", "::1"))
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
    finally:
        restrict_host_addresses(())


def is_vp8_keyframe(packet: av.Packet) -> bool:
    return bytes(packet)[0] & 0x01 == 0  # RFC 6386 frame tag: the P bit is clear on a keyframe


async def connect(offerer: RTCPeerConnection, answerer: RTCPeerConnection) -> None:
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)


async def until(check: Callable[[], bool], seconds: float) -> bool:
    for _ in range(int(seconds / 0.02)):
        if check():
            return True
        await asyncio.sleep(0.02)
    return check()


@pytest.mark.usefixtures(loopback_namespace.__name__)
async def test_forwarded_packets_reach_a_decoding_viewer_and_its_keyframe_requests_reach_the_publisher() -> None:
    """Publisher → ingest (forwarding, no decoder) → relay → egress (packing only) → viewer, as the room relay does."""
    restrict_host_addresses(("127.0.0.1",))
    publisher, ingest, egress, viewer = new_pc(), new_pc(), new_pc(), new_pc()
    relay, seen, publisher_asked = MediaRelay(), [], []
    try:
        camera = publisher.addTransceiver(SyntheticCamera(), direction="sendonly")
        camera.setCodecPreferences(codecs("video", "VP8"))
        make_keyframe = camera.sender._send_keyframe
        camera.sender._send_keyframe = lambda: publisher_asked.append(1) or make_keyframe()  # type: ignore[method-assign]
        await publisher.setLocalDescription(await publisher.createOffer())
        await ingest.setRemoteDescription(publisher.localDescription)
        receiver = ingest.getTransceivers()[0].receiver
        forward_encoded(receiver, seen.append)
        await ingest.setLocalDescription(await ingest.createAnswer())
        await publisher.setRemoteDescription(ingest.localDescription)
        first = await asyncio.wait_for(relay.subscribe(receiver.track).recv(), 5)
        assert isinstance(first, av.Packet) and first.time_base == Fraction(1, 90000) and is_vp8_keyframe(first)
        assert seen and seen[0].mimeType == "video/VP8"

        sending = egress.addTransceiver(relay.subscribe(receiver.track, buffered=True), direction="sendonly")
        sending.setCodecPreferences(preferences(seen[0]))
        passed_on: list[asyncio.Future[None]] = []

        def pass_on() -> None:
            passed_on.append(asyncio.ensure_future(request_keyframe(receiver)))

        on_keyframe_request(sending.sender, pass_on)
        frames: list[av.VideoFrame] = []
        viewer.addTransceiver("video", direction="recvonly")
        viewer.on("track", lambda track: asyncio.ensure_future(_collect(track, frames)))
        await connect(viewer, egress)
        assert await until(lambda: len(frames) >= 5, 5.0), "the viewer decoded nothing"
        assert {(f.width, f.height) for f in frames} == {(WIDTH, HEIGHT)}

        asked_before = len(publisher_asked)
        await request_keyframe(viewer.getTransceivers()[0].receiver)  # the viewer's PLI, as a browser sends it
        assert await until(lambda: bool(passed_on), 2.0), "the viewer's PLI did not reach on_keyframe_request"
        assert await until(lambda: len(publisher_asked) > asked_before, 2.0), "the PLI did not reach the publisher"
    finally:
        restrict_host_addresses(())
        await asyncio.gather(*(pc.close() for pc in (publisher, ingest, egress, viewer)))


async def _collect(track: MediaStreamTrack, frames: list[av.VideoFrame]) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            frames.append(await track.recv())
