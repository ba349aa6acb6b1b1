// A WHEP viewer: receives a room's video and audio into a <video> element.
import { MediaSession, SessionError } from "./webrtc.js";

export { SessionError };

export class WhepClient extends MediaSession {
  /** Start receiving into ``video``; rejects with a SessionError (404 when the room is not live). */
  play(video) {
    return this.open((pc) => {
      const stream = new MediaStream();
      pc.addEventListener("track", (event) => {
        stream.addTrack(event.track);
        if (video.srcObject !== stream) video.srcObject = stream;
      });
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
    });
  }
}
