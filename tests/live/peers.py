"""What WebRTC tests share: the loopback-only namespace they run in, a synthetic camera, and plain peers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction
from urllib.parse import urlsplit

import av
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpCodecCapability, RTCRtpReceiver, VideoStreamTrack

from tests.conftest import PG_URL, REDIS_URL
from tests.live.netns import NamespaceUnavailable, interfaces, loopback_only

WIDTH, HEIGHT = 320, 240


def _local_port(url: str | None) -> int | None:
    parts = urlsplit(url or "")
    return (parts.port or {"redis": 6379}.get(parts.scheme, 5432)) if parts.hostname == "127.0.0.1" else None


@pytest.fixture(scope="module")
def loopback_namespace() -> Iterator[None]:
    """The module's tests run in a namespace with only loopback; this leg's PostgreSQL and Redis are bridged in.

    Skipped where namespaces cannot be made, unless REQUIRE_SERVICES=1.
    """
    ports = tuple(p for p in (_local_port(PG_URL), _local_port(REDIS_URL)) if p)
    namespace = loopback_only(f"lc-webrtc-{os.getpid()}", ports)
    try:
        namespace.__enter__()
    except NamespaceUnavailable as exc:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"WebRTC tests need a loopback-only network namespace: {exc}")
        pytest.skip(f"WebRTC tests run only in a loopback-only network namespace, and {exc}")
    try:
        assert interfaces() == ["lo"]
        yield
    finally:
        namespace.__exit__(None, None, None)


class SyntheticCamera(VideoStreamTrack):
    """FFmpeg's testsrc2 through PyAV (no device, no ffmpeg binary), paced at 30 fps."""

    def __init__(self) -> None:
        super().__init__()
        self._source = av.open(f"testsrc2=size={WIDTH}x{HEIGHT}:rate=30", format="lavfi")
        self._frames = self._source.decode(video=0)

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = next(self._frames)
        frame.pts, frame.time_base = pts, Fraction(time_base)
        return frame

    def stop(self) -> None:
        super().stop()
        self._source.close()


def codecs(kind: str, name: str) -> list[RTCRtpCodecCapability]:
    """``name`` (and RTX) from aiortc's capabilities, for ``setCodecPreferences``."""
    names = (f"{kind}/{name}", f"{kind}/rtx")
    return [c for c in RTCRtpReceiver.getCapabilities(kind).codecs if c.mimeType in names]


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))  # none: aiortc would otherwise ask Google's STUN
