// The room page for viewers: the video over WHEP while live, the room channel, chat, likes and the in-page
// checkout ("Buy" loads shop's quick-buy fragment beside the video, with the room as the order's source).
import { Player } from "./player.js";
import { RoomChannel, RoomView, bindChat } from "./room.js";
import { api, pageData, toast } from "./ui.js";

const data = pageData("room-data");
const root = document.getElementById("room");
const part = (name) => root.querySelector(`[data-role="${name}"]`);

const player = new Player({
  video: part("video"),
  overlay: part("overlay"),
  overlayText: part("overlay-text"),
  unmute: part("unmute"),
  url: data.whep_url,
  iceServers: data.ice_servers,
});

function follow(status) {
  if (status === "live") player.play();
  else if (status === "ended") {
    player.stop("This show has ended. Thanks for watching!");
    enableChat(false); // the channel refuses chat and likes in an ended room
    const like = part("like");
    if (like) like.disabled = true;
  }
}

const channel = new RoomChannel(data.ws_url);
const enableChat = bindChat(root, channel);
const view = new RoomView(root, {
  me: data.me,
  hostId: data.host_id,
  products: data.products,
  moderator: data.moderator,
  buyable: data.status !== "ended",
  onStatus: follow,
  onSanction: (action) => {
    if (action === "mute" || action === "ban") enableChat(false);
    if (action === "unmute" || action === "unban") enableChat(true);
  },
});
view.offers.pinnedChanged({ products: data.pinned.map((id) => data.products[id]).filter(Boolean) });
data.deals.forEach((deal) => view.offers.deal(deal));

const connection = part("connection");
channel.addEventListener("event", (event) => view.handle(event.detail));
channel.addEventListener("open", () => { connection.textContent = "Connected"; });
channel.addEventListener("close", (event) => {
  connection.textContent = event.detail.final ? "Disconnected" : "Reconnecting…";
  if (!event.detail.final) return;
  enableChat(false);
  if (event.detail.code === 4403) view.notice("You were removed from this room's chat.");
  if (event.detail.code === 4404) view.notice("This room no longer exists.");
});
channel.connect();
follow(data.status);

// Moderators (an admin on someone's room) act from the chat list.
root.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-moderate]");
  if (!button) return;
  const { moderate, userId, messageId } = button.dataset;
  const body = moderate === "delete_message" ? { action: moderate, message_id: messageId } : { action: moderate, user_id: userId };
  try {
    await api("POST", `/api/live/rooms/${data.room_id}/moderation`, body);
  } catch (error) {
    toast("Could not moderate", error.message);
  }
});

// In-page checkout: shop's quick-buy fragment replaces an empty #quick-buy-<product id> (shop/quick_buy.py) ------
const panel = part("checkout-panel");
const checkout = part("checkout");

function closeCheckout() {
  panel.hidden = true;
  checkout.replaceChildren();
}

part("checkout-close").addEventListener("click", closeCheckout);
// The fragment's Cancel button swaps in an empty placeholder: the panel closes with it.
panel.addEventListener("htmx:afterSettle", () => {
  if (!checkout.querySelector(".quick-buy")?.childElementCount) closeCheckout();
});

root.addEventListener("click", (event) => {
  const button = event.target.closest("[data-buy]");
  if (!button || button.disabled) return;
  if (!data.me) {
    location.assign(data.signin_url);
    return;
  }
  const productId = button.dataset.buy;
  // Through the room's product link, which records the click for attribution and hands over shop's form.
  const query = new URLSearchParams({ buy: "true" });
  if (button.dataset.deal) query.set("deal_id", button.dataset.deal);
  const slot = document.createElement("div");
  slot.id = `quick-buy-${productId}`;
  checkout.replaceChildren(slot);
  panel.hidden = false;
  const productPath = `${encodeURIComponent(data.room_id)}/products/${encodeURIComponent(productId)}`;
  window.htmx.ajax("GET", `/live/rooms/${productPath}?${query}`, {
    target: `#${CSS.escape(slot.id)}`,
    swap: "outerHTML",
  });
  panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
});
