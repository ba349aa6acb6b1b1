// The host's control desk for one room: go live from the camera over WHIP, end the show, pin products, start
// deals, moderate the chat, set slow mode, and manage the stream key for OBS.
import { RoomChannel, RoomView, bindChat } from "./room.js";
import { api, pageData, parseAmount, toast } from "./ui.js";
import { WhipClient } from "./whip.js";

const data = pageData("room-data");
const root = document.getElementById("room");
const part = (name) => root.querySelector(`[data-role="${name}"]`);
const roomApi = data.api_url;

// The room channel: chat with moderation buttons, viewers, likes, pins, deals, status -----------------------------
const channel = new RoomChannel(data.ws_url);
bindChat(root, channel);
const view = new RoomView(root, {
  me: data.me,
  hostId: data.host_id,
  products: data.products,
  moderator: true,
  buyable: false,
  onStatus: statusChanged,
});
view.offers.pinnedChanged({ products: data.pinned.map((id) => data.products[id]).filter(Boolean) });
data.deals.forEach((deal) => view.offers.deal(deal));
// Frames that change "This show so far": its panel reloads itself on this event (templates/live/partials/_room_stats.html).
const STATS_EVENTS = new Set(["status", "purchase", "viewers"]);
channel.addEventListener("event", (event) => {
  view.handle(event.detail);
  if (event.detail.type === "pinned") showPinButtons();
  if (STATS_EVENTS.has(event.detail.type)) document.body.dispatchEvent(new CustomEvent("room-activity"));
});
channel.addEventListener("open", () => { part("connection").textContent = "Connected"; });
channel.addEventListener("close", () => { part("connection").textContent = "Reconnecting…"; });
channel.connect();

// Going live from the browser -------------------------------------------------------------------------------------
const preview = part("preview");
const publishState = part("publish-state");
const goLive = part("go-live");
const endShow = part("end-show");
let whip = null;
let camera = null;

function say(text) {
  publishState.textContent = text;
}

function statusChanged(status) {
  root.dataset.status = status;
  if (status === "live") say(whip ? "You are live. Viewers see and hear you now." : "The room is live.");
  if (status === "ended") {
    say("The show has ended. Schedule a new room to go live again.");
    stopCamera();
    for (const control of root.querySelectorAll("button, select, input")) {
      if (!control.closest(".chat")) control.disabled = true;
    }
  }
}

// What is going out, every two seconds while broadcasting: codec, size and frame rate.
const sendStats = part("send-stats");
setInterval(async () => {
  const stats = await whip?.videoStats().catch(() => null);
  sendStats.textContent = stats?.width ? `Sending ${stats.codec} · ${stats.width}×${stats.height} · ${Math.round(stats.fps)} fps` : "";
}, 2000);

function stopCamera() {
  camera?.getTracks().forEach((track) => track.stop());
  camera = null;
  preview.srcObject = null;
  part("preview-overlay").hidden = false;
}

goLive.addEventListener("click", async () => {
  goLive.disabled = true;
  try {
    say("Asking for your camera and microphone…");
    camera = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      audio: true,
    });
    preview.srcObject = camera;
    part("preview-overlay").hidden = true;
    say("Connecting to the media server…");
    whip = new WhipClient(data.whip_url, {
      token: data.stream_key,
      iceServers: data.ice_servers,
      preferH264: part("prefer-h264").checked,
      onState: (state) => {
        if (state === "connected" && root.dataset.status !== "live") say("Sending video; the room goes live in a moment…");
        if (state === "failed") {
          say("The connection to the media server failed. Click Go live to try again.");
          whip?.stop().catch(() => {});
          whip = null;
          stopCamera();
          goLive.disabled = root.dataset.status === "ended"; // a session torn down by End show fails too
        }
      },
    });
    await whip.publish(camera);
    if (root.dataset.status === "live") say("You are live. Viewers see and hear you now.");
  } catch (error) {
    whip = null;
    stopCamera();
    goLive.disabled = root.dataset.status === "ended";
    const reason = error.name === "NotAllowedError" ? "Camera access was refused; allow it in the browser and retry." : error.message;
    say(`Could not go live: ${reason}`);
    toast("Could not go live", reason);
  }
});

endShow.addEventListener("click", async () => {
  if (!confirm("End the show for everyone? The room cannot go live again.")) return;
  endShow.disabled = true;
  try {
    if (whip) await whip.stop(); // deleting the WHIP session ends the room
    whip = null;
    await api("POST", `${roomApi}/end`); // and when OBS (or another tab) was broadcasting
    stopCamera();
    view.status({ type: "status", status: "ended" }); // at once, even if the channel is reconnecting
  } catch (error) {
    endShow.disabled = false;
    toast("Could not end the show", error.message);
  }
});

// Pins -------------------------------------------------------------------------------------------------------------
function showPinButtons() {
  for (const button of root.querySelectorAll("[data-pin]")) {
    button.textContent = view.offers.pinned.includes(button.dataset.pin) ? "Unpin" : "Pin";
  }
}

root.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-pin]");
  if (!button) return;
  const id = button.dataset.pin;
  button.disabled = true;
  try {
    if (view.offers.pinned.includes(id)) await api("DELETE", `${roomApi}/pin/${encodeURIComponent(id)}`);
    else await api("POST", `${roomApi}/pin`, { product_id: id });
  } catch (error) {
    toast("Could not change the pins", error.message);
  } finally {
    button.disabled = root.dataset.status === "ended";
  }
});

// Deals ------------------------------------------------------------------------------------------------------------
const dealForm = part("deal-form");
dealForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = dealForm.elements;
  const errorBox = part("deal-error");
  const currency = fields.product_id.selectedOptions[0].dataset.currency;
  const amount = parseAmount(fields.price.value, currency);
  const minutes = Number(fields.minutes.value);
  const problem = amount === null || amount < 1 ? "Enter the deal price, like 9.99."
    : !(minutes >= 1 && minutes <= 240) ? "A deal runs from 1 to 240 minutes." : "";
  errorBox.textContent = problem;
  errorBox.hidden = !problem;
  if (problem) return;
  const body = {
    product_id: fields.product_id.value,
    price: { amount_minor: amount, currency },
    quantity: Number(fields.quantity.value),
    per_buyer_limit: Number(fields.per_buyer_limit.value),
    ends_at: new Date(Date.now() + minutes * 60000).toISOString(),
  };
  const submit = dealForm.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    const deal = await api("POST", `${roomApi}/deals`, body);
    view.offers.deal(deal);
    toast("Deal started", `${fields.product_id.selectedOptions[0].textContent.trim()}: ${deal.quantity} available`, true);
    fields.price.value = "";
  } catch (error) {
    errorBox.textContent = error.message;
    errorBox.hidden = false;
  } finally {
    submit.disabled = false;
  }
});

// Moderation and slow mode ------------------------------------------------------------------------------------------
root.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-moderate]");
  if (!button) return;
  const { moderate, userId, messageId } = button.dataset;
  if (moderate === "ban" && !confirm("Ban this person from the room's chat?")) return;
  const body = moderate === "delete_message" ? { action: moderate, message_id: messageId } : { action: moderate, user_id: userId };
  try {
    await api("POST", `${roomApi}/moderation`, body);
  } catch (error) {
    toast("Could not moderate", error.message);
  }
});

part("slow-mode").addEventListener("change", async (event) => {
  try {
    await api("PATCH", roomApi, { slow_mode_seconds: Number(event.target.value) });
    toast("Slow mode", Number(event.target.value) ? `One message every ${event.target.value} s` : "Off", true);
  } catch (error) {
    toast("Could not change slow mode", error.message);
  }
});

// The stream key for OBS --------------------------------------------------------------------------------------------
const keyField = document.getElementById("f-stream-key");
part("reveal-key").addEventListener("click", (event) => {
  const hidden = keyField.type === "password";
  keyField.type = hidden ? "text" : "password";
  event.target.textContent = hidden ? "Hide" : "Show";
});

root.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  try {
    await navigator.clipboard.writeText(field.value);
    toast("Copied", "", true);
  } catch {
    field.type = "text"; // no clipboard access (plain http): select it for the person to copy
    field.select();
  }
});

part("rotate-key").addEventListener("click", async () => {
  if (!confirm("Make a new stream key? Encoders using the old one will be refused.")) return;
  try {
    const fresh = await api("POST", `${roomApi}/stream-key`);
    data.stream_key = fresh.stream_key;
    keyField.value = fresh.stream_key;
    toast("New stream key", "Paste it into OBS before you start streaming.", true);
  } catch (error) {
    toast("Could not make a new key", error.message);
  }
});
