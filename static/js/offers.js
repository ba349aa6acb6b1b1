// What a room offers, as its page shows it: pinned products, live deals with a countdown, stock left and the
// purchase ticker, kept current from the room channel's "pinned", "deal", "stock" and "purchase" events.
import { countdown, el, formatMoney } from "./ui.js";

const MAX_TICKER = 4;

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

export class Offers {
  /** ``products``: {id: product} known from the page; ``buyable``: show Buy buttons (not on the host's studio). */
  constructor(root, { products = {}, buyable = true } = {}) {
    this.root = root;
    this.products = new Map(Object.entries(products));
    this.buyable = buyable;
    this.deals = new Map(); // deal id → deal
    this.pinned = []; // product ids, most recently pinned first
    setInterval(() => this.tick(), 1000);
  }

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
      button.disabled = !this.buyable || product.stock === 0;
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

  /** The room ended: its deals are over and nothing more is bought from this page. */
  close() {
    const now = new Date().toISOString();
    for (const deal of this.deals.values()) if (Date.parse(deal.ends_at) > Date.now()) deal.ends_at = now;
    this.buyable = false;
    this.renderPinned();
    this.renderDeals();
    for (const button of this.root.querySelectorAll("[data-buy]")) button.disabled = true;
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
}
