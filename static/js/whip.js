// A WHIP publisher (RFC 9725): sends a camera/microphone stream to the room's WHIP endpoint with its stream key.
import { SessionError, endSession, exchange } from "./webrtc.js";

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

export class WhipClient {
  /**
   * @param {string} url the room's WHIP endpoint
   * @param {{token: string, iceServers?: RTCIceServer[], preferH264?: boolean, gatherTimeoutMs?: number,
   *          onState?: (state: string) => void}} options
   */
  constructor(url, { token, iceServers = [], preferH264 = false, gatherTimeoutMs, onState } = {}) {
    this.url = url;
    this.options = { token, gatherTimeoutMs };
    this.iceServers = iceServers;
    this.preferH264 = preferH264;
    this.onState = onState || (() => {});
    this.pc = null;
    this.location = null;
  }

  /** Publish every track of ``stream``; resolves once the server has answered (media may take a moment more). */
  async publish(stream) {
    if (this.pc) throw new Error("Already publishing");
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    pc.addEventListener("connectionstatechange", () => this.onState(pc.connectionState));
    for (const track of stream.getTracks()) {
      const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      // OBS sends H264; a browser that sends it too exercises the same path through the relay.
      if (track.kind === "video" && this.preferH264) preferCodec(transceiver, "video", "video/H264");
    }
    try {
      this.location = await exchange(pc, this.url, this.options);
    } catch (error) {
      pc.close();
      this.pc = null;
      throw error;
    }
    return this.location;
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

  /** End the broadcast: DELETE the session (the room ends) and close the connection. */
  async stop() {
    const { pc, location } = this;
    this.pc = null;
    this.location = null;
    try {
      await endSession(location, this.options);
    } finally {
      pc?.close();
    }
  }
}
