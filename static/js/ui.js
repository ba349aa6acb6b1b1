// Small helpers the live pages share: page data, money, toasts and JSON calls to our API.
// User-supplied text only ever reaches the page through textContent, never as markup.

/** The JSON a page embeds in <script type="application/json" id="...">; data, never executed. */
export function pageData(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

/** The CSRF token the page was rendered with (base.html puts it in the body's hx-headers). */
export function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
  } catch {
    return "";
  }
}

const DIGITS = { JPY: 0, KRW: 0 };

/** "$25.00" from {amount_minor, currency}, without floating-point arithmetic on the amount. */
export function formatMoney(money) {
  if (!money) return "";
  const digits = DIGITS[money.currency] ?? 2;
  const minor = BigInt(money.amount_minor);
  const negative = minor < 0n;
  const absolute = negative ? -minor : minor;
  const scale = 10n ** BigInt(digits);
  const major = (absolute / scale).toString();
  const fraction = digits ? "." + (absolute % scale).toString().padStart(digits, "0") : "";
  try {
    const format = new Intl.NumberFormat("en-US", { style: "currency", currency: money.currency });
    return format.format(`${negative ? "-" : ""}${major}${fraction}`);
  } catch {
    return `${negative ? "-" : ""}${major}${fraction} ${money.currency}`;
  }
}

/** Minor units from what a person typed ("12.5" → 1250 for USD); null when it is not a valid amount. */
export function parseAmount(text, currency) {
  const digits = DIGITS[currency] ?? 2;
  const match = /^\s*(\d{1,9})(?:[.,](\d*))?\s*$/.exec(text || "");
  if (!match || (match[2] || "").length > digits) return null;
  const fraction = (match[2] || "").padEnd(digits, "0");
  return Number(match[1]) * 10 ** digits + Number(fraction || "0");
}

/** Create an element with a class and text (textContent: safe for any user text). */
export function el(tag, className = "", text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== null && text !== undefined) node.textContent = String(text);
  return node;
}

/** A toast in #toasts, like the server's components/_toast.html. */
export function toast(title, detail = "", ok = false) {
  const region = document.getElementById("toasts");
  if (!region) return;
  const box = el("div", `toast ${ok ? "toast-ok" : "toast-error"}`);
  box.setAttribute("role", "status");
  box.append(el("strong", "", title));
  if (detail) box.append(el("span", "", detail));
  region.append(box);
  setTimeout(() => box.remove(), 6500);
}

/** An error from our JSON API, carrying the problem document (detail, per-field errors). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `The server answered ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  /** Field name → message, for showing beside a form's inputs. */
  fields() {
    const result = {};
    for (const item of this.problem.errors || []) {
      const field = String(item.field || "").split(".")[0];
      if (field && !result[field]) result[field] = item.message;
    }
    return result;
  }
}

/** A JSON call with the session cookie and the CSRF header; resolves to the parsed body or throws ApiError. */
export async function api(method, url, body = undefined) {
  const headers = { Accept: "application/json", "x-csrftoken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { detail: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** "4:05" (or "1:02:03") left until ``endsAt``; "0:00" once past. */
export function countdown(endsAt, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((Date.parse(endsAt) - now) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}
