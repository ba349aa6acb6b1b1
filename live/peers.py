"""The peer-connection registry: every ``RTCPeerConnection`` this process opens, so none outlives its session.

A connection is made with the configured ICE servers (an explicit, possibly empty, list: without one aiortc would
ask Google's public STUN server), registered at once, and dropped from the registry when closed; ``close_all()``
closes whatever is left at shutdown. Offers aiortc cannot use become ``BadSdp`` (a 400 at the edge).
"""

from __future__ import annotations

import asyncio

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InvalidAccessError, OperationError

from live.offers import BadSdp


class PeerConnections:
    """The open peer connections of this process's relay."""

    def __init__(self, ice_servers: list[RTCIceServer]) -> None:
        self._ice_servers = ice_servers
        self._open: set[RTCPeerConnection] = set()

    def __len__(self) -> int:
        return len(self._open)

    def new(self) -> RTCPeerConnection:
        """A registered peer connection using the configured ICE servers."""
        pc = RTCPeerConnection(RTCConfiguration(iceServers=list(self._ice_servers)))
        self._open.add(pc)
        return pc

    async def close(self, pc: RTCPeerConnection) -> None:
        self._open.discard(pc)
        await pc.close()

    async def close_all(self) -> None:
        """Close every registered connection; one that fails to close does not keep the others open."""
        await asyncio.gather(*(pc.close() for pc in list(self._open)), return_exceptions=True)
        self._open.clear()


async def accept(pc: RTCPeerConnection, offer: str) -> None:
    """Set ``offer`` as the remote description."""
    try:
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    except (ValueError, OperationError, InvalidAccessError) as exc:
        raise BadSdp("unusable_sdp", f"The SDP offer cannot be used: {exc}") from None


async def answer(pc: RTCPeerConnection) -> str:
    """Answer the accepted offer; the SDP returned carries every ICE candidate (no trickle needed)."""
    try:
        await pc.setLocalDescription(await pc.createAnswer())
    except (ValueError, OperationError, InvalidAccessError) as exc:
        raise BadSdp("unusable_sdp", f"The SDP offer cannot be answered: {exc}") from None
    return pc.localDescription.sdp  # aiortc gathered every candidate above
