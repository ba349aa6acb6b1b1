// Keeps a <video> playing a room's broadcast over WHEP while the room is live: retries a refused or failed
// session with backoff, and shows a short message over the video while there is nothing to show.
import { WhepClient } from "./whep.js";

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10000;

export class Player {
  /**
   * @param {{video: HTMLVideoElement, overlay: HTMLElement, overlayText: HTMLElement, unmute?: HTMLElement,
   *          url: string, iceServers: RTCIceServer[]}} parts
   */
  constructor({ video, overlay, overlayText, unmute, url, iceServers }) {
    Object.assign(this, { video, overlay, overlayText, unmute, url, iceServers });
    this.client = null;
    this.wanted = false;
    this.attempt = 0;
    this.timer = null;
    video.addEventListener("playing", () => {
      this.attempt = 0;
      this.overlay.hidden = true;
      const hasAudio = video.srcObject?.getAudioTracks().length > 0;
      if (this.unmute) this.unmute.hidden = !(hasAudio && video.muted);
    });
    unmute?.addEventListener("click", () => {
      video.muted = false;
      video.play().catch(() => {});
      unmute.hidden = true;
    });
    // Leaving the page ends the viewer's session on the server at once rather than after a timeout.
    addEventListener("pagehide", () => this.client?.stop().catch(() => {}));
  }

  show(text) {
    this.overlayText.textContent = text;
    this.overlay.hidden = false;
  }

  /** Start (or keep) playing; safe to call again on every "live" status. */
  play() {
    this.wanted = true;
    if (this.client) return;
    this.connect();
  }

  async connect() {
    clearTimeout(this.timer);
    if (!this.wanted || this.client) return;
    if (this.video.paused || !this.video.srcObject) this.show("Connecting to the video…");
    const client = new WhepClient(this.url, {
      iceServers: this.iceServers,
      onState: (state) => {
        if (state === "failed" && this.client === client) this.restart();
      },
    });
    this.client = client;
    try {
      await client.play(this.video);
      this.video.play().catch(() => {}); // autoplay of a muted video is allowed; this covers a paused element
    } catch (error) {
      if (this.client === client) this.client = null;
      this.retryLater(error.status === 404 ? "Waiting for the host's video…" : "The video could not start; retrying…");
    }
  }

  restart() {
    const client = this.client;
    this.client = null;
    client?.stop().catch(() => {});
    this.retryLater("The video dropped; reconnecting…");
  }

  retryLater(text) {
    if (!this.wanted) return;
    this.show(text);
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.attempt);
    this.attempt += 1;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Stop playing because the show ended (the server has closed every session) and leave ``text`` over the video. */
  stop(text) {
    this.wanted = false;
    clearTimeout(this.timer);
    this.client?.close();
    this.client = null;
    this.video.srcObject = null;
    if (this.unmute) this.unmute.hidden = true;
    this.show(text);
  }
}
