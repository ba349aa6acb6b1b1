// Room cards on a listing (the Fan Zone, /live) follow their rooms' status without a reload: live's status channel
// (WS /live/statuses/ws) says when a room goes live or ends, and each card for it changes its badge and actions.
import { RoomChannel } from "./room.js";

const LABELS = { live: "LIVE", ended: "Ended", scheduled: "Upcoming" };

function show(card, status) {
  card.dataset.status = status;
  for (const badge of card.querySelectorAll('[data-role="room-badge"]')) {
    badge.textContent = LABELS[status] || status;
    badge.classList.toggle("badge-live", status === "live");
  }
  // What a card offers belongs to one status (a Join link, a Remind me button): the others' are hidden.
  for (const part of card.querySelectorAll("[data-when-status]")) {
    part.hidden = part.dataset.whenStatus !== status;
  }
}

if (document.querySelector("[data-room-card]")) {
  const channel = new RoomChannel("/live/statuses/ws");
  channel.addEventListener("event", (event) => {
    const { type, room_id: roomId, status } = event.detail;
    if (type !== "status" || typeof roomId !== "string") return;
    for (const card of document.querySelectorAll(`[data-room-card="${CSS.escape(roomId)}"]`)) show(card, status);
  });
  channel.connect();
}
