// A WHIP publisher (RFC 9725): sends a camera/microphone stream to the room's WHIP endpoint with its stream key.
import { MediaSession, SessionError } from "./webrtc.js";

export { SessionError };

/** Put ``mimeType`` first among the codecs a transceiver offers, keeping the rest (RTX, FEC) as fallbacks. */
function preferCodec(transceiver, kind, mimeType) {
  const capabilities = RTCRtpSender.getCapabilities?.(kind);
  if (!capabilities || !transceiver.setCodecPreferences) return false;
  const wanted = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase());
  if (!wanted.length) return false;
  const others = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() !== mimeType.toLowerCase());
  transceiver.setCodecPreferences([...wanted, ...others]);
  return true;
}

export class WhipClient extends MediaSession {
  /**
   * @param {string} url the room's WHIP endpoint
   * @param {{token: string, iceServers?: RTCIceServer[], preferH264?: boolean, gatherTimeoutMs?: number,
   *          onState?: (state: string) => void}} options
   */
  constructor(url, options = {}) {
    super(url, options);
    this.preferH264 = Boolean(options.preferH264);
  }

  /** Publish every track of ``stream``; resolves once the server has answered (media may take a moment more). */
  publish(stream) {
    return this.open((pc) => {
      for (const track of stream.getTracks()) {
        const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
        // OBS sends H264; a browser that sends it too exercises the same path through the relay.
        if (track.kind === "video" && this.preferH264) preferCodec(transceiver, "video", "video/H264");
      }
    });
  }

  /** What the video sender is sending now: {codec ("H264", "VP8"...), width, height, fps}, or null. */
  async videoStats() {
    if (!this.pc) return null;
    const report = await this.pc.getStats();
    for (const stat of report.values()) {
      if (stat.type !== "outbound-rtp" || stat.kind !== "video") continue;
      const codec = report.get(stat.codecId)?.mimeType?.split("/")[1] || "";
      return { codec, width: stat.frameWidth || 0, height: stat.frameHeight || 0, fps: stat.framesPerSecond || 0 };
    }
    return null;
  }
}
