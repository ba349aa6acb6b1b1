// What the WHIP and WHEP clients share: one non-trickle offer/answer exchange over HTTP (RFC 9725 and WHEP).
//
// The whole offer, every ICE candidate included, goes in one POST, because OBS-style servers (and ours) answer
// once and may not take trickled candidates. Gathering is given a deadline: a browser that finds no usable
// interface may never report "complete", and a viewer should not wait forever for that.

export const GATHER_TIMEOUT_MS = 2000;

/** An HTTP answer other than 201 from a WHIP/WHEP endpoint, with the problem document's detail. */
export class SessionError extends Error {
  constructor(status, detail) {
    super(detail || `The media server answered ${status}`);
    this.name = "SessionError";
    this.status = status;
  }
}

/** Resolve when ICE gathering is complete, or after ``timeoutMs`` with whatever candidates were found. */
export function iceGathered(pc, timeoutMs = GATHER_TIMEOUT_MS) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", onState);
      pc.removeEventListener("icecandidate", onCandidate);
      resolve();
    };
    const onState = () => { if (pc.iceGatheringState === "complete") finish(); };
    const onCandidate = (event) => { if (!event.candidate) finish(); };
    const timer = setTimeout(finish, timeoutMs);
    pc.addEventListener("icegatheringstatechange", onState);
    pc.addEventListener("icecandidate", onCandidate);
  });
}

/** The bearer token (WHIP's stream key) and any other headers. WHIP and WHEP need no CSRF token: they are not
 *  cookie-authenticated, and a media node may answer cross-origin, where only these headers are allowed. */
function headers(token, extra = {}) {
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function problemDetail(response) {
  try {
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) return (await response.json()).detail || "";
    return (await response.text()).slice(0, 200);
  } catch {
    return "";
  }
}

/**
 * Offer, gather, POST the offer as application/sdp, apply the 201 answer.
 * Returns the session's absolute URL (from Location, resolved against the final URL after any 307 redirect).
 */
export async function exchange(pc, url, { token, gatherTimeoutMs = GATHER_TIMEOUT_MS } = {}) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc, gatherTimeoutMs);
  const response = await fetch(url, {
    method: "POST",
    headers: headers(token, { "Content-Type": "application/sdp" }),
    body: pc.localDescription.sdp,
    credentials: "same-origin",
  });
  if (response.status !== 201) throw new SessionError(response.status, await problemDetail(response));
  const location = response.headers.get("Location");
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  return location ? new URL(location, response.url).href : null;
}

/** End a session (DELETE its Location). A session the server already forgot (404) counts as ended. */
export async function endSession(location, { token } = {}) {
  if (!location) return;
  const response = await fetch(location, {
    method: "DELETE",
    headers: headers(token),
    credentials: "same-origin",
    keepalive: true, // still sent when the page is being closed
  });
  if (!response.ok && response.status !== 404) throw new SessionError(response.status, await problemDetail(response));
}

/** One WHIP or WHEP session: a peer connection, the exchange that starts it, and the Location that ends it. */
export class MediaSession {
  /**
   * @param {string} url the room's WHIP or WHEP endpoint
   * @param {{token?: string, iceServers?: RTCIceServer[], gatherTimeoutMs?: number,
   *          onState?: (state: string) => void}} options
   */
  constructor(url, { token, iceServers = [], gatherTimeoutMs, onState } = {}) {
    this.url = url;
    this.options = { token, gatherTimeoutMs };
    this.iceServers = iceServers;
    this.onState = onState || (() => {});
    this.pc = null;
    this.location = null;
  }

  /** Make the connection, let ``setUp(pc)`` add its transceivers, then exchange; closes it again on failure. */
  async open(setUp) {
    if (this.pc) throw new Error("Already connected");
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    pc.addEventListener("connectionstatechange", () => this.onState(pc.connectionState));
    setUp(pc);
    try {
      this.location = await exchange(pc, this.url, this.options);
    } catch (error) {
      pc.close();
      this.pc = null;
      throw error;
    }
    return this.location;
  }

  /** Close the connection without telling the server: for when the server ended the session itself. */
  close() {
    this.pc?.close();
    this.pc = null;
    this.location = null;
  }

  /** DELETE the session and close the connection. */
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
