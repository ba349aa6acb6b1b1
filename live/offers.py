"""What WHIP and WHEP accept: SDP offers checked before any peer connection exists, and ICE server entries.

An offer is refused with a 400 naming the problem when it cannot be parsed, has no audio or video section, has
more than one of a kind, points the wrong way (a publisher must send, a viewer receive), or, for a publisher, offers
no codec the relay can forward.
"""

from __future__ import annotations

from aiortc import RTCIceServer, RTCRtpCodecParameters
from aiortc import sdp as aiortc_sdp

from kernel.errors import DomainError
from live.forwarding import relayable_codecs

MEDIA_KINDS = ("audio", "video")


class BadSdp(DomainError):
    status = 400
    title = "Malformed request"


def parse_ice_server(entry: str) -> RTCIceServer:
    """``stun:host:port`` or ``turn:user:password@host:port[?transport=tcp]`` as aiortc and browsers take it."""
    scheme, _, rest = entry.partition(":")
    if "@" not in rest:
        return RTCIceServer(urls=entry)
    credentials, _, address = rest.rpartition("@")
    username, _, password = credentials.partition(":")
    return RTCIceServer(urls=f"{scheme}:{address}", username=username, credential=password)


def parse_offer(text: str, *, sending: bool) -> dict[str, list[RTCRtpCodecParameters]]:
    """The offer's codecs we could negotiate, by media kind; a 400 for anything we cannot take.

    ``sending``: the offerer publishes (WHIP) rather than plays (WHEP).
    """
    try:
        description = aiortc_sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc's parser raises whatever the malformed line trips over
        raise BadSdp("malformed_sdp", f"The SDP offer could not be parsed ({type(exc).__name__}).") from None
    media = [m for m in description.media if m.kind in MEDIA_KINDS]
    if not media:
        raise BadSdp("no_media", "The SDP offer has no audio or video section.")
    codecs: dict[str, list[RTCRtpCodecParameters]] = {}
    for section in media:
        if section.kind in codecs:
            raise BadSdp("too_many_media", f"One {section.kind} section per session, please.")
        wanted = ("sendonly", "sendrecv") if sending else ("recvonly", "sendrecv")
        if section.direction not in wanted:
            verb = "send" if sending else "receive"
            raise BadSdp("wrong_direction", f"The offer's {section.kind} section must {verb} media.")
        codecs[section.kind] = relayable_codecs(section.kind, section.rtp.codecs)
        if sending and not codecs[section.kind]:
            raise BadSdp("unsupported_codec", f"None of the offered {section.kind} codecs can be relayed.")
    return codecs
