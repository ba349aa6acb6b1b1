// A WHEP viewer: receives a room's video and audio into a <video> element.
import { SessionError, endSession, exchange } from "./webrtc.js";

export { SessionError };

export class WhepClient {
  /**
   * @param {string} url the room's WHEP endpoint
   * @param {{iceServers?: RTCIceServer[], gatherTimeoutMs?: number, onState?: (state: string) => void}} options
   */
  constructor(url, { iceServers = [], gatherTimeoutMs, onState } = {}) {
    this.url = url;
    this.options = { gatherTimeoutMs };
    this.iceServers = iceServers;
    this.onState = onState || (() => {});
    this.pc = null;
    this.location = null;
  }

  /** Start receiving into ``video``; rejects with a SessionError (404 when the room is not live). */
  async play(video) {
    if (this.pc) throw new Error("Already playing");
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    const stream = new MediaStream();
    pc.addEventListener("track", (event) => {
      stream.addTrack(event.track);
      if (video.srcObject !== stream) video.srcObject = stream;
    });
    pc.addEventListener("connectionstatechange", () => this.onState(pc.connectionState));
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.addTransceiver("audio", { direction: "recvonly" });
    try {
      this.location = await exchange(pc, this.url, this.options);
    } catch (error) {
      pc.close();
      this.pc = null;
      throw error;
    }
    return this.location;
  }

  /** Close the connection without telling the server: for when the server ended the broadcast itself. */
  close() {
    this.pc?.close();
    this.pc = null;
    this.location = null;
  }

  /** Stop watching: DELETE the session and close the connection. */
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
