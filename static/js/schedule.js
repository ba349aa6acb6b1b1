// The studio's schedule form: a product picker over the catalog (GET /api/shop/products) and POST /api/live/rooms.
import { ApiError, api, el, formatMoney } from "./ui.js";

const form = document.getElementById("schedule-form");
const part = (name) => form.querySelector(`[data-role="${name}"]`);
const max = Number(form.dataset.maxProducts) || 20;
const picked = new Map(); // product id → product, in the order picked
const search = part("product-search");
const results = part("product-results");
let lastQuery = null;
let lastResults = [];

function info(title, detail) {
  const box = el("span", "pick-info");
  box.append(el("span", "pick-title", title), el("span", "small muted", detail));
  return box;
}

function renderPicked() {
  const list = part("picked");
  list.replaceChildren();
  for (const product of picked.values()) {
    const item = el("li", "pick-item");
    item.append(info(product.title, formatMoney(product.price)));
    const remove = el("button", "btn btn-ghost btn-xs", "Remove");
    remove.type = "button";
    remove.setAttribute("aria-label", `Remove ${product.title}`);
    remove.addEventListener("click", () => {
      picked.delete(product.id);
      renderPicked();
      renderResults(lastResults);
    });
    item.append(remove);
    list.append(item);
  }
  part("picked-count").textContent = String(picked.size);
}

function renderResults(products) {
  lastResults = products;
  results.replaceChildren();
  if (!products.length) {
    results.append(el("li", "small muted", "No products match."));
    return;
  }
  for (const product of products) {
    const item = el("li", "pick-item");
    item.append(info(product.title, `${formatMoney(product.price)} · ${product.seller.display_name}`));
    const add = el("button", "btn btn-secondary btn-xs", picked.has(product.id) ? "Added" : "Add");
    add.type = "button";
    add.disabled = picked.has(product.id) || picked.size >= max;
    add.setAttribute("aria-label", `Add ${product.title}`);
    add.addEventListener("click", () => {
      if (picked.size >= max) return;
      picked.set(product.id, product);
      renderPicked();
      renderResults(lastResults);
    });
    item.append(add);
    results.append(item);
  }
}

async function find(query) {
  lastQuery = query;
  const params = new URLSearchParams({ limit: "12" });
  if (query) params.set("q", query);
  try {
    const page = await api("GET", `/api/shop/products?${params}`);
    if (query === lastQuery) renderResults(page.items);
  } catch (error) {
    results.replaceChildren(el("li", "text-danger small", error.message));
  }
}

let debounce = null;
search.addEventListener("input", () => {
  clearTimeout(debounce);
  debounce = setTimeout(() => find(search.value.trim().slice(0, 100)), 250);
});
search.addEventListener("keydown", (event) => {
  if (event.key === "Enter") event.preventDefault(); // searching, not submitting the room
});

function showErrors(errors, general) {
  for (const node of form.querySelectorAll("[data-error-for]")) {
    const message = errors[node.dataset.errorFor];
    node.textContent = message || "";
    node.hidden = !message;
    node.closest(".field")?.classList.toggle("has-error", Boolean(message));
  }
  const box = part("form-error");
  box.textContent = general || "";
  box.hidden = !general;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const title = form.elements.title.value.trim();
  const when = form.elements.scheduled_for.value;
  const errors = {};
  if (!title) errors.title = "Give the show a title.";
  if (when && Number.isNaN(Date.parse(when))) errors.scheduled_for = "Pick a date and time.";
  if (Object.keys(errors).length) return showErrors(errors, "");
  const body = { title, description: form.elements.description.value, product_ids: [...picked.keys()] };
  // datetime-local is the creator's wall-clock time; the API takes an instant with its offset.
  if (when) body.scheduled_for = new Date(when).toISOString();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const room = await api("POST", "/api/live/rooms", body);
    location.assign(`/live/studio/${encodeURIComponent(room.id)}`);
  } catch (error) {
    button.disabled = false;
    showErrors(error instanceof ApiError ? error.fields() : {}, error.message);
  }
});

renderPicked();
find("");
