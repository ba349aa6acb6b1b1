// The room channel (WS /live/rooms/{id}/ws, frames as in API.md "Room channel") and how a page shows its events:
// chat, likes, viewers, moderation, status and refusals here; pinned products, deals, stock and the purchase
// ticker in offers.js.
import { Offers } from "./offers.js";
import { el, toast } from "./ui.js";

const MAX_MESSAGES = 200;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
// Close codes after which reconnecting would only be refused again: banned from the room (4403), no such room
// (4404), a policy violation (1008).
const FINAL_CLOSE_CODES = new Set([1008, 4403, 4404]);

/**
 * One room's WebSocket, reconnecting with exponential backoff and jitter.
 * Dispatches "event" (detail: one event object), "open", "close" (detail: {final}).
 */
export class RoomChannel extends EventTarget {
  constructor(path) {
    super();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${location.host}${path}`;
    this.socket = null;
    this.attempt = 0;
    this.closed = false;
    this.timer = null;
  }

  connect() {
    this.closed = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => this.dispatchEvent(new CustomEvent("open")));
    socket.addEventListener("message", (message) => {
      this.attempt = 0; // the server is talking to us: the next drop starts the backoff again
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      for (const event of Array.isArray(frame) ? frame : [frame]) {
        if (event && typeof event.type === "string") this.dispatchEvent(new CustomEvent("event", { detail: event }));
      }
    });
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const final = this.closed || FINAL_CLOSE_CODES.has(event.code);
      this.dispatchEvent(new CustomEvent("close", { detail: { final, code: event.code, reason: event.reason } }));
      if (!final) this.reconnectLater();
    });
  }

  reconnectLater() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt += 1;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), ceiling / 2 + Math.random() * (ceiling / 2));
  }

  /** Send one client frame; false when the socket is not open (the caller says so to the user). */
  send(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.close(1000);
  }
}

/** Find the element of ``root`` marked data-role="name". */
function role(root, name) {
  return root.querySelector(`[data-role="${name}"]`);
}

/**
 * Renders room events into a page. ``root`` holds elements marked with data-role (chat-log, likes, viewers,
 * status, chat-error, chat-notice, and offers.js's pinned, deals, ticker); those a page lacks are skipped.
 *
 * options: {me: {id}|null, hostId, products: {id: product}, moderator: bool, buyable: bool, onStatus(status),
 *           onSanction(action): the signed-in viewer was muted, banned, unmuted or unbanned}
 */
export class RoomView {
  constructor(root, options) {
    this.root = root;
    this.me = options.me || null;
    this.hostId = options.hostId;
    this.moderator = Boolean(options.moderator);
    this.onStatus = options.onStatus || (() => {});
    this.onSanction = options.onSanction || (() => {});
    this.messages = new Map(); // message id → <li>
    this.offers = new Offers(root, { products: options.products, buyable: options.buyable !== false });
    this.chatLog = role(root, "chat-log");
  }

  handle(event) {
    const offers = this.offers;
    const [target, handler] = {
      chat: [this, this.chat],
      likes: [this, this.likes],
      viewers: [this, this.viewers],
      pinned: [offers, offers.pinnedChanged],
      deal: [offers, offers.deal],
      stock: [offers, offers.stock],
      purchase: [offers, offers.purchase],
      moderation: [this, this.moderation],
      status: [this, this.status],
      error: [this, this.error],
    }[event.type] || [];
    handler?.call(target, event);
  }

  // Chat ---------------------------------------------------------------------------------------------------------
  chat(message) {
    if (!this.chatLog || this.messages.has(message.id)) return; // a reconnect replays the history
    const nearBottom = this.chatLog.scrollHeight - this.chatLog.scrollTop - this.chatLog.clientHeight < 40;
    const item = el("li", "chat-msg");
    item.dataset.messageId = message.id;
    item.dataset.userId = message.user.id;
    const author = el("span", "chat-author", message.user.display_name);
    if (message.user.id === this.hostId) author.append(" ", el("span", "badge badge-host", "Host"));
    if (this.me && message.user.id === this.me.id) item.classList.add("chat-mine");
    item.append(author, " ", el("span", "chat-text", message.text));
    if (this.moderator && message.user.id !== this.hostId) item.append(this.moderationButtons(message));
    this.chatLog.querySelector(".chat-empty")?.remove();
    this.chatLog.append(item);
    this.messages.set(message.id, item);
    while (this.messages.size > MAX_MESSAGES) {
      const [oldest, node] = this.messages.entries().next().value;
      node.remove();
      this.messages.delete(oldest);
    }
    if (nearBottom) this.chatLog.scrollTop = this.chatLog.scrollHeight;
  }

  moderationButtons(message) {
    const box = el("span", "chat-actions");
    for (const [action, label] of [["delete_message", "Delete"], ["mute", "Mute"], ["ban", "Ban"]]) {
      const button = el("button", "btn btn-ghost btn-xs", label);
      button.type = "button";
      button.dataset.moderate = action;
      button.dataset.userId = message.user.id;
      button.dataset.messageId = message.id;
      button.setAttribute("aria-label", `${label} ${message.user.display_name}`);
      box.append(button);
    }
    return box;
  }

  system(text) {
    if (!this.chatLog) return;
    this.chatLog.append(el("li", "chat-msg chat-system", text));
    this.chatLog.scrollTop = this.chatLog.scrollHeight;
  }

  // Counters -----------------------------------------------------------------------------------------------------
  likes(event) {
    const node = role(this.root, "likes");
    if (node) node.textContent = String(event.count);
  }

  viewers(event) {
    const node = role(this.root, "viewers");
    // Sockets may stay open after the show ends; nobody is watching an ended show.
    if (node) node.textContent = String(this.root.dataset.status === "ended" ? 0 : event.count);
  }

  // Moderation, status, errors ----------------------------------------------------------------------------------
  moderation(event) {
    const mine = this.me && event.user_id === this.me.id;
    if (event.action === "delete_message") {
      this.messages.get(event.message_id)?.remove();
      this.messages.delete(event.message_id);
    } else if (event.action === "slow_mode") {
      const seconds = event.slow_mode_seconds || 0;
      this.notice(seconds ? `Slow mode: one message every ${seconds} s.` : "");
    } else if (mine) {
      this.onSanction(event.action);
      const words = { mute: "The host muted you in this room.", ban: "You were removed from this room's chat." };
      if (words[event.action]) this.notice(words[event.action]);
      if (event.action === "unmute" || event.action === "unban") this.notice("");
    } else if (this.moderator && event.user_id) {
      const name = this.nameOf(event.user_id);
      const words = { mute: "muted", ban: "banned", unmute: "unmuted", unban: "unbanned" };
      if (words[event.action]) this.system(`${name} was ${words[event.action]}.`);
      if (event.action === "ban") this.dropMessagesOf(event.user_id);
    } else if (event.action === "ban" && event.user_id) {
      this.dropMessagesOf(event.user_id);
    }
  }

  nameOf(userId) {
    for (const item of this.messages.values()) {
      if (item.dataset.userId === userId) return item.querySelector(".chat-author").firstChild.textContent;
    }
    return "A viewer";
  }

  dropMessagesOf(userId) {
    for (const [id, item] of this.messages) {
      if (item.dataset.userId === userId) {
        item.remove();
        this.messages.delete(id);
      }
    }
  }

  notice(text) {
    const node = role(this.root, "chat-notice");
    if (!node) return;
    node.textContent = text;
    node.hidden = !text;
  }

  status(event) {
    for (const node of this.root.querySelectorAll('[data-role="status"]')) {
      node.textContent = event.status === "live" ? "LIVE" : event.status === "ended" ? "Ended" : "Scheduled";
      node.className = `badge status-badge ${event.status === "live" ? "badge-live" : ""}`;
    }
    this.root.dataset.status = event.status;
    if (event.status === "ended") {
      this.viewers({ count: 0 });
      this.offers.close(); // the server has ended the room's deals: nothing here is for sale any more
    }
    this.onStatus(event.status);
  }

  error(event) {
    const node = role(this.root, "chat-error");
    if (node) {
      node.textContent = event.detail || event.code;
      node.hidden = false;
      clearTimeout(this.errorTimer);
      this.errorTimer = setTimeout(() => { node.hidden = true; }, 6000);
    } else {
      toast("The room refused that", event.detail || event.code);
    }
  }
}

/** Wire a chat form and a like button to ``channel``; returns a function that enables or disables the form. */
export function bindChat(root, channel) {
  const form = root.querySelector('[data-role="chat-form"]');
  const like = root.querySelector('[data-role="like"]');
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.elements.text;
    const text = input.value.trim();
    if (!text) return;
    if (channel.send({ type: "chat", text })) {
      input.value = "";
    } else {
      toast("Not connected", "Reconnecting to the room; try again in a moment.");
    }
  });
  like?.addEventListener("click", () => {
    if (!channel.send({ type: "like" })) return;
    like.classList.remove("liked");
    void like.offsetWidth; // restart the animation
    like.classList.add("liked");
  });
  return (enabled) => {
    if (!form) return;
    for (const control of form.elements) control.disabled = !enabled;
  };
}
