// The room channel (WS /live/rooms/{id}/ws, frames as in API.md "Room channel") and how a page shows its events:
// chat, likes, viewers, pinned products, deals with a countdown, the purchase ticker, stock, moderation, status.
import { countdown, el, formatMoney, toast } from "./ui.js";

const MAX_MESSAGES = 200;
const MAX_TICKER = 4;
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

function productImage(product) {
  // Only our own media paths become image sources; anything else gets the placeholder.
  if (product.image_url && product.image_url.startsWith("/media/")) {
    const img = el("img", "product-image product-image-sm");
    img.src = product.image_url;
    img.alt = "";
    return img;
  }
  const tone = [...(product.title || "")].length % 4;
  const box = el("div", `product-image product-placeholder product-image-sm tone-${tone}`);
  box.setAttribute("aria-hidden", "true");
  box.append(el("span", "", (product.title || "?").slice(0, 1).toUpperCase()));
  return box;
}

/**
 * Renders room events into a page. ``root`` holds elements marked with data-role (chat-log, likes, viewers,
 * pinned, deals, ticker, status, chat-error, chat-notice); those a page lacks are skipped.
 *
 * options: {me: {id}|null, hostId, products: {id: product}, moderator: bool, buyable: bool, onStatus(status),
 *           onSanction(action): the signed-in viewer was muted, banned, unmuted or unbanned}
 */
export class RoomView {
  constructor(root, options) {
    this.root = root;
    this.me = options.me || null;
    this.hostId = options.hostId;
    this.products = new Map(Object.entries(options.products || {}));
    this.moderator = Boolean(options.moderator);
    this.buyable = options.buyable !== false;
    this.onStatus = options.onStatus || (() => {});
    this.onSanction = options.onSanction || (() => {});
    this.messages = new Map(); // message id → <li>
    this.deals = new Map(); // deal id → deal
    this.pinned = [];
    this.chatLog = role(root, "chat-log");
    setInterval(() => this.tick(), 1000);
  }

  handle(event) {
    const handler = {
      chat: this.chat,
      likes: this.likes,
      viewers: this.viewers,
      pinned: this.pinnedChanged,
      deal: this.deal,
      stock: this.stock,
      purchase: this.purchase,
      moderation: this.moderation,
      status: this.status,
      error: this.error,
    }[event.type];
    handler?.call(this, event);
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
    if (node) node.textContent = String(event.count);
  }

  // Products and deals -------------------------------------------------------------------------------------------
  remember(product) {
    const known = this.products.get(product.id) || {};
    this.products.set(product.id, { ...known, ...product });
  }

  pinnedChanged(event) {
    const list = event.products || (event.product ? [event.product] : []);
    list.forEach((product) => this.remember(product));
    this.pinned = list.map((product) => product.id);
    this.renderPinned();
  }

  renderPinned() {
    const box = role(this.root, "pinned");
    if (!box) return;
    box.replaceChildren();
    if (!this.pinned.length) {
      box.append(el("p", "small muted", "Nothing pinned yet."));
      return;
    }
    for (const id of this.pinned) {
      const product = this.products.get(id);
      if (!product) continue;
      const card = el("article", "pinned-card");
      card.dataset.productId = id;
      const body = el("div", "pinned-body");
      body.append(el("h3", "pinned-title", product.title), el("p", "pinned-price", formatMoney(product.price)));
      const stock = el("p", "small muted", "");
      stock.dataset.stockFor = id;
      body.append(stock);
      card.append(productImage(product), body);
      if (this.buyable) card.append(this.buyButton(id, null, product.stock === 0));
      box.append(card);
      this.showStock(id);
    }
  }

  showStock(productId) {
    const product = this.products.get(productId);
    if (!product) return;
    for (const node of this.root.querySelectorAll(`[data-stock-for="${CSS.escape(productId)}"]`)) {
      node.textContent = product.stock === 0 ? "Sold out" : `${product.stock} in stock`;
    }
    for (const button of this.root.querySelectorAll(`[data-buy="${CSS.escape(productId)}"]:not([data-deal])`)) {
      button.disabled = product.stock === 0;
    }
  }

  buyButton(productId, dealId, disabled) {
    const button = el("button", "btn btn-primary btn-sm", dealId ? "Buy at this price" : "Buy");
    button.type = "button";
    button.dataset.buy = productId;
    if (dealId) button.dataset.deal = dealId;
    button.disabled = Boolean(disabled);
    return button;
  }

  deal(deal) {
    this.deals.set(deal.id, { ...this.deals.get(deal.id), ...deal });
    this.renderDeals();
  }

  renderDeals() {
    const box = role(this.root, "deals");
    if (!box) return;
    box.replaceChildren();
    const now = Date.now();
    const current = [...this.deals.values()].filter((d) => Date.parse(d.ends_at) > now - 60000);
    if (!current.length) {
      box.append(el("p", "small muted", "No live deals right now."));
      return;
    }
    for (const deal of current) {
      const product = this.products.get(deal.product_id) || { title: "A product", id: deal.product_id };
      const card = el("article", "deal-card");
      card.dataset.dealId = deal.id;
      const head = el("div", "deal-head");
      head.append(el("span", "badge badge-live", "Live deal"), el("span", "deal-countdown", ""));
      const title = el("h3", "deal-title", product.title);
      const prices = el("p", "deal-prices");
      prices.append(el("strong", "deal-price", formatMoney(deal.price)));
      if (product.price) prices.append(" ", el("s", "muted", formatMoney(product.price)));
      const left = el("p", "small deal-left", "");
      card.append(head, title, prices, left);
      if (this.buyable) card.append(this.buyButton(deal.product_id, deal.id, false));
      box.append(card);
    }
    this.tick();
  }

  /** Countdowns, and deals that ran out of time or quantity, once a second. */
  tick() {
    const now = Date.now();
    for (const card of this.root.querySelectorAll(".deal-card")) {
      const deal = this.deals.get(card.dataset.dealId);
      if (!deal) continue;
      const over = Date.parse(deal.ends_at) <= now;
      const soldOut = deal.remaining <= 0;
      card.querySelector(".deal-countdown").textContent = over ? "Ended" : `Ends in ${countdown(deal.ends_at, now)}`;
      card.querySelector(".deal-left").textContent = soldOut
        ? "Sold out"
        : `${deal.remaining} of ${deal.quantity} left · limit ${deal.per_buyer_limit} per buyer`;
      card.classList.toggle("deal-over", over || soldOut);
      const button = card.querySelector("[data-buy]");
      if (button) button.disabled = over || soldOut;
    }
  }

  stock(event) {
    if (event.deal_id) {
      const deal = this.deals.get(event.deal_id);
      if (deal) {
        deal.remaining = event.remaining;
        this.tick();
      }
      return;
    }
    const product = this.products.get(event.product_id);
    if (product) {
      product.stock = event.remaining;
      this.showStock(event.product_id);
    }
  }

  purchase(event) {
    const box = role(this.root, "ticker");
    if (!box) return;
    const title = this.products.get(event.product_id)?.title || "something";
    const line = el("li", "ticker-item");
    line.append(el("strong", "", event.buyer), ` just bought ${event.quantity > 1 ? `${event.quantity} × ` : ""}`);
    line.append(el("span", "", title));
    box.prepend(line);
    while (box.children.length > MAX_TICKER) box.lastElementChild.remove();
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
