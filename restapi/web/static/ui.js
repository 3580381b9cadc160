// Small DOM helpers shared by every page: elements, messages, money and odds formatting.
import { logout, api } from "./api.js";

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** h("a", {href: "/x", class: "y"}, "text", child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "style") el.style.cssText = v; // CSSOM: the CSP refuses style attributes (style-src 'self')
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c.nodeType ? c : String(c));
  return el;
}

const NOTIFY_PREFS = { "bet.accepted": "bet_accepted", "bet.graded": "bet_graded", "balance.changed": "balance",
  "settlement.reminder": "settlement" };

/** Keep the player's notification switches (from /user/preferences) for this tab. */
export function storeNotifyPrefs(prefs) {
  const wanted = {};
  const switches = prefs.notifications || {};
  for (const [kind, key] of Object.entries(NOTIFY_PREFS)) wanted[kind] = switches[key] !== false;
  sessionStorage.setItem("wb.notify", JSON.stringify(wanted));
}

/** Does the player want a toast for this kind of private event? (Unknown kinds and no stored prefs: yes.) */
export function notifyWanted(kind) {
  try { return JSON.parse(sessionStorage.getItem("wb.notify") || "{}")[kind] !== false; } catch { return true; }
}

/** A message in the toast region: green check for success, red for errors. */
export function toast(message, kind = "ok") {
  const el = h("div", { class: kind === "ok" ? "ok" : "error", role: kind === "ok" ? "status" : "alert" }, message);
  $("#toasts").append(el);
  setTimeout(() => el.remove(), kind === "ok" ? 4000 : 8000);
  return el;
}

// Plain words for the fields a server error may name (people never see field names).
const FIELD_WORDS = { stake_cents: "Stake", default_stake_cents: "Default stake", parlay_stake_cents: "Stake",
  selections: "Selections", email: "Email", phone: "Phone", display_name: "Display name", password: "Password",
  login: "Login", odds_format: "Odds format", accept_price_changes: "Price changes", from: "From", to: "To",
  status: "Status", type: "Type", credit_limit_cents: "Credit limit", max_wager_cents: "Max wager",
  min_wager_cents: "Min wager", amount_cents: "Amount", player: "Customer" };

/** The field's plain name, or null when it is internal (not shown). */
export function fieldWord(key) {
  if (FIELD_WORDS[key]) return FIELD_WORDS[key];
  return /^[a-z]+$/.test(key) ? key[0].toUpperCase() + key.slice(1) : null;
}

/** Show an API error (its message, plus per-field messages in plain words) in a form's red error box. */
export function showError(box, err) {
  if (!box) { toast(err.message, "error"); return; }
  box.replaceChildren(err.message || "Something went wrong");
  const details = err.details && typeof err.details === "object" ? Object.entries(err.details) : [];
  const lines = details.filter(([, v]) => Array.isArray(v) && v.every((x) => typeof x === "string"))
    .map(([k, v]) => { const w = fieldWord(k); return `${w ? w + ": " : ""}${v.join(" ")}`; });
  if (lines.length) box.append(h("ul", {}, lines.map((t) => h("li", {}, t))));
  box.className = "error msg";
  box.hidden = false;
  box.setAttribute("role", "alert");
}

export function showOk(box, message) {
  box.replaceChildren(message);
  box.className = "ok msg";
  box.hidden = false;
  box.setAttribute("role", "status");
}

export function clearMsg(box) { if (box) { box.hidden = true; box.replaceChildren(); } }

const AMOUNT = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function money(cents, { sign = false } = {}) {
  if (cents === null || cents === undefined) return "—";
  const s = AMOUNT.format(Math.abs(cents) / 100);
  return `${cents < 0 ? "−" : sign && cents > 0 ? "+" : ""}$${s}`;
}

/** "12.50" -> 1250; NaN when it is not an amount with at most two decimals. */
export function parseMoney(text) {
  const t = String(text || "").trim().replace(/[$,\s]/g, "");
  if (!/^\d+(\.\d{1,2})?$/.test(t)) return NaN;
  const [whole, frac = ""] = t.split(".");
  return Number(whole) * 100 + Number((frac + "00").slice(0, 2));
}

let format = null; // read once a page: fmtOdds runs for every price on the board
export function oddsFormat() { return (format ??= sessionStorage.getItem("wb.oddsFormat") || "american"); }

export function fmtOdds(american, fmt = oddsFormat()) {
  if (american === null || american === undefined) return "—";
  if (fmt === "decimal") {
    const d = american > 0 ? 1 + american / 100 : 1 + 100 / -american;
    return d.toFixed(2);
  }
  return american > 0 ? `+${american}` : `${american}`.replace("-", "−");
}

/** A line: "+3.5", "−3.5" (the same minus sign as the odds), totals without a sign. */
export function fmtPoint(point, market) {
  if (point === null || point === undefined) return "";
  if (market === "totals") return String(point);
  return point > 0 ? `+${point}` : String(point).replace("-", "−");
}

export function marketName(market) { return market === "h2h" ? "Moneyline" : market === "spreads" ? "Spread" : "Total"; }

// Intl formatters are costly to build: one each, reused (toLocaleString builds a new one every call).
const WHEN = new Intl.DateTimeFormat("en-US", { weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
const TIME = new Intl.DateTimeFormat("en-US", { weekday: "short", hour: "numeric", minute: "2-digit" });

/** "Sun, Nov 29, 7:30 PM" in the player's time zone. */
export function fmtWhen(iso) {
  if (!iso) return "—";
  return WHEN.format(new Date(iso));
}

export function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `updated ${s}s ago`;
  if (s < 3600) return `updated ${Math.floor(s / 60)}m ago`;
  return `updated ${Math.floor(s / 3600)}h ago`;
}

export function fmtTime(iso) { return TIME.format(new Date(iso)); }

export function fmtDate(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleDateString("en-CA");
}

export function setBusy(el, busy) { if (el) el.setAttribute("aria-busy", busy ? "true" : "false"); }

/** Header, logout, service worker and (for players) the balance: once per page. */
export function chrome(area) {
  const out = $("#logout");
  if (out) out.addEventListener("click", logout);
  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
  if (area === "player") refreshBalance();
}

const accountListeners = new Set();
/** Call ``f(dashboard)`` each time the player's money figures are read. */
export function onAccount(f) { accountListeners.add(f); }

export async function refreshBalance() {
  const el = $("#balance-value");
  if (!el) return;
  try {
    const d = await api("/api/v1/dashboard");
    if (d && d.available_cents !== undefined) {
      el.textContent = money(d.available_cents);
      accountListeners.forEach((f) => f(d));
    }
  } catch { /* the balance is a nicety: the page works without it */ }
}
