// Bet slip: a drawer above the tab bar on phones, a side panel on desktop. Selections are kept on
// the server (/betting/slip, so another device sees the same slip) and, synchronously on every
// change, in localStorage (so a reload a moment after a tap, before the batched PUT went out, still
// has the pick, and other tabs follow); payouts from /betting/quote; placement with an
// Idempotency-Key; a price-change prompt on 409 with old and new prices; a receipt that stays until
// dismissed. The typed stake follows the player from page to page. Keyboard: Esc closes the drawer,
// Tab stays inside it.
import { api, idemKey, user } from "./api.js";
import { $, $$, h, money, parseMoney, fmtOdds, fmtPoint, fmtWhen, showError, clearMsg, refreshBalance, marketName } from "./ui.js";

export const SLIP = "wb.slip"; // localStorage: {user, legs, dirty}; dirty = changed since the server last took it
const STAKE = "wb.stake";
const RECEIPT = "wb.receipt";
const listeners = new Set();
const desktop = window.matchMedia("(min-width: 64rem)");
const owner = () => String(user()?.id ?? "");
let legs = stored().legs;
let mode = "straight";
let quoteSeq = 0;
let pendingKey = null; // reused when the same placement is retried after a network error

let syncTimer = null;
let changes = 0; // local edits so far: a server slip read before the latest edit is stale

/** This player's stored slip (another player's, left on a shared phone, is not theirs to see). */
function stored() {
  try {
    const d = JSON.parse(localStorage.getItem(SLIP) || "null");
    if (d && d.user === owner() && Array.isArray(d.legs)) return d;
  } catch { /* unreadable: start empty */ }
  return { user: owner(), legs: [], dirty: false };
}

function keep(dirty) {
  try { localStorage.setItem(SLIP, JSON.stringify({ user: owner(), legs, dirty })); } catch { /* storage full or off */ }
  listeners.forEach((f) => f());
}

function save() {
  changes += 1;
  keep(true); // before anything else: a reload from here on finds the change
  clearTimeout(syncTimer);
  syncTimer = setTimeout(push, 250); // a burst of taps becomes one PUT
}

/** Store the slip on the server (it lives BETTING_SLIP_TTL after the last change). */
async function push(keepalive = false) {
  clearTimeout(syncTimer);
  syncTimer = null;
  const before = changes;
  try {
    await api("/api/v1/betting/slip", { method: "PUT", keepalive, body: { parlay_stake_cents: null, selections: legs.map((l) => (
      { event_id: l.event_id, market: l.market, outcome: l.outcome, point: l.point, book: l.book, price: l.price })) } });
    if (changes === before && !keepalive) keep(false);
  } catch { /* offline or a selection left the board: the local slip still works; the next change retries */ }
}

/** Take the server's slip (what this player picked on another device or tab), keeping local labels. */
async function pull() {
  if (stored().dirty) { push(); return; } // changed here after the server last took it (a reload cut the PUT)
  const before = changes;
  let slip;
  try { slip = await api("/api/v1/betting/slip"); } catch { return; }
  if (changes !== before) return; // edited meanwhile: the local slip is newer and on its way to the server
  const mine = new Map(legs.map((l) => [selKey(l), l]));
  legs = slip.selections.filter((x) => x.book && x.price != null).map((x) => {
    const leg = { event_id: x.event_id, market: x.market, outcome: x.outcome, point: x.point, book: x.book, price: x.price,
      matchup: x.event ? `${x.event.away} @ ${x.event.home}` : x.event_id, book_title: x.book };
    const known = mine.get(selKey(leg));
    return known ? { ...leg, matchup: known.matchup, book_title: known.book_title } : leg;
  });
  keep(false);
  render();
}

export const selKey = (s) => `${s.event_id}|${s.book}|${s.market}|${s.outcome}`;
export const slotKey = (s) => `${s.event_id}|${s.market}|${s.outcome}`;
export function isSelected(key) { return legs.some((l) => selKey(l) === key); }
/** The leg on the slip for this event, market and outcome (whatever the book), or undefined. */
export function legFor(slot) { return legs.find((l) => slotKey(l) === slot); }
export function onSlipChange(f) { listeners.add(f); }

/** Add the selection, or remove it when it is already on the slip (the same outcome at another book replaces it). */
export function toggleSelection(sel) {
  const k = selKey(sel);
  if (isSelected(k)) legs = legs.filter((l) => selKey(l) !== k);
  else legs = [...legs.filter((l) => slotKey(l) !== slotKey(sel)), sel];
  pendingKey = null;
  save();
  render();
}

/** A live price moved: the slip shows the new price and the placement will say so. */
export function priceUpdate(key, price, point) {
  const leg = legs.find((l) => selKey(l) === key);
  if (!leg || (leg.price === price && leg.point === point)) return;
  leg.live_price = price;
  leg.live_point = point;
  save();
  render();
}

/** "Lakers +3.5 · Spread" / "Over 220.5 · Total" / "Lakers · Moneyline". */
export function pickLabel(l) {
  const pt = fmtPoint(l.point, l.market);
  return `${l.outcome}${pt ? " " + pt : ""} · ${marketName(l.market)}`;
}

function stakeCents() { return parseMoney($("#slip-stake").value); }

function render() {
  const list = $("#slip-legs");
  if (!list) return;
  $("#slip-count").textContent = String(legs.length);
  $("#slip-empty").hidden = legs.length > 0;
  $("#slip-form").hidden = legs.length === 0;
  $(".modes").hidden = legs.length === 0;
  list.replaceChildren(...legs.map((l) => {
    const moved = l.live_price !== undefined && l.live_price !== l.price;
    return h("li", { dataset: { sel: selKey(l) } },
      h("span", {}, pickLabel(l), " ", h("strong", {}, fmtOdds(l.price)),
        moved ? h("em", { class: "moved" }, ` → now ${fmtOdds(l.live_price)}`) : null,
        h("small", { class: "leg-meta" }, `${l.matchup} · ${l.book_title || l.book}`)),
      h("button", { type: "button", class: "icon", "aria-label": `Remove ${pickLabel(l)} from the slip`,
        onclick: () => toggleSelection(l) }, "✕"));
  }));
  const parlay = $("input[name=slip-mode][value=parlay]");
  parlay.disabled = legs.length < 2;
  if (legs.length < 2 && mode === "parlay") { mode = "straight"; $("input[name=slip-mode][value=straight]").checked = true; }
  $("#slip-place").textContent = mode === "parlay" ? `Place ${legs.length}-leg parlay`
    : legs.length > 1 ? `Place ${legs.length} straight bets` : "Place bet";
  quote();
}

function selectionsBody(withStake) {
  const stake = stakeCents();
  return legs.map((l) => ({ event_id: l.event_id, market: l.market, outcome: l.outcome, point: l.point,
    book: l.book, price: l.price, ...(withStake && stake > 0 ? { stake_cents: stake } : {}) }));
}

async function quote() {
  const out = $("#slip-payout");
  const stake = stakeCents();
  if (!legs.length) { out.textContent = "To win —"; return; }
  if (!(stake > 0)) { out.textContent = "Enter a stake to see the payout"; return; }
  const seq = ++quoteSeq;
  try {
    const q = await api("/api/v1/betting/quote", { method: "POST", body: {
      selections: selectionsBody(mode === "straight"), parlay_stake_cents: mode === "parlay" ? stake : null } });
    if (seq !== quoteSeq) return;
    if (mode === "parlay") {
      const p = q.parlay;
      out.textContent = p.error ? p.error.message || "This parlay cannot be placed"
        : `Parlay ${fmtOdds(p.american)} · to win ${money(p.payout_cents - stake)} · returns ${money(p.payout_cents)}`;
    } else {
      const total = q.selections.reduce((s, x) => s + (x.payout_cents || 0), 0);
      out.textContent = `To win ${money(total - stake * legs.length)} · returns ${money(total)} for ${money(stake * legs.length)} staked`;
    }
  } catch (err) {
    if (seq === quoteSeq) out.textContent = `Payout unavailable: ${err.message}`;
  }
}

function promptChanges(err, retry) {
  const box = $("#slip-prompt");
  const changed = (err.details && err.details.changes) || [];
  const lines = changed.map((c) => {
    const l = legs[c.selection] || {};
    const name = l.outcome ? pickLabel(l) : c.outcome;
    return c.off_board ? h("li", {}, `${name}: no longer offered`)
      : h("li", {}, `${name}: was `, h("span", { class: "old" }, fmtOdds(c.price_seen)), " now ",
        h("span", { class: "new" }, fmtOdds(c.price)), c.point !== undefined && c.point !== l.point && c.point !== null
          ? ` (line ${fmtPoint(c.point, l.market)})` : "");
  });
  box.replaceChildren(h("p", {}, h("strong", {}, "Prices changed since you added them:")), h("ul", {}, lines),
    h("button", { type: "button", class: "primary", id: "slip-accept", onclick: () => {
      for (const c of changed) {
        const l = legs[c.selection];
        if (l && !c.off_board) { l.price = c.price; l.point = c.point; delete l.live_price; delete l.live_point; }
      }
      legs = legs.filter((l, i) => !changed.some((c) => c.off_board && c.selection === i));
      box.hidden = true;
      pendingKey = null;
      save(); render();
      retry();
    } }, "Accept new prices"),
    h("button", { type: "button", onclick: () => { box.hidden = true; $("#slip-place").focus(); } }, "Cancel"));
  box.hidden = false;
  $("#slip-accept").focus();
}

/** The receipt of what was just placed: stays (across pages too) until the player dismisses it. */
function showReceipt(receipt) {
  const box = $("#slip-receipt");
  if (!receipt) { box.hidden = true; box.replaceChildren(); return; }
  const bets = receipt.bets;
  const stake = bets.reduce((s, b) => s + b.stake_cents, 0);
  const returns = bets.reduce((s, b) => s + b.potential_payout_cents, 0);
  const title = bets.length === 1 ? `Bet placed: #${bets[0].id} (${bets[0].type})` : `${bets.length} bets placed: ${bets.map((b) => "#" + b.id).join(", ")}`;
  box.replaceChildren(
    h("h3", { id: "receipt-title" }, "✓ ", title),
    ...bets.map((b) => h("div", { class: "receipt-bet", "data-bet": b.id },
      bets.length > 1 ? h("p", {}, h("strong", {}, `#${b.id}`), ` ${b.type}`) : null,
      h("ol", {}, b.legs.map((l) => h("li", {}, `${pickLabel(l)} ${fmtOdds(l.price)}`,
        h("small", { class: "leg-meta" }, `${l.away_team} @ ${l.home_team} · ${l.book_title || l.book}`)))))),
    h("dl", {},
      h("dt", {}, "Stake"), h("dd", {}, money(stake)),
      h("dt", {}, "To win"), h("dd", {}, money(returns - stake)),
      h("dt", {}, "Returns"), h("dd", {}, money(returns)),
      h("dt", {}, "Placed"), h("dd", {}, fmtWhen(bets[0].placed_at))),
    h("div", { class: "actions" },
      h("a", { href: "/history" }, "See your bets"),
      h("button", { type: "button", id: "receipt-done", onclick: () => {
        sessionStorage.removeItem(RECEIPT);
        showReceipt(null);
        (legs.length ? $("#slip-stake") : $("#slip-close")).focus();
      } }, "Done")));
  box.hidden = false;
}

let placing = false; // a placement is in flight: its "accepted" push may beat the HTTP answer

/** Was this bet placed from this tab? (Its receipt already says so: no toast needed.) */
export function placedHere(betId) {
  if (placing) return true;
  try { return (JSON.parse(sessionStorage.getItem(RECEIPT) || "null")?.bets || []).some((b) => String(b.id) === String(betId)); }
  catch { return false; }
}

async function place() {
  const box = $("#slip-error");
  clearMsg(box);
  const stake = stakeCents();
  if (!(stake > 0)) {
    showError(box, { message: "Enter a stake in dollars, e.g. 10 or 12.50", details: {} });
    $("#slip-stake").focus();
    return;
  }
  const button = $("#slip-place");
  button.disabled = true;
  placing = true;
  const placed = [];
  const labels = new Map(legs.map((l) => [slotKey(l), l.book_title]));
  try {
    const bets = mode === "parlay" ? [{ type: "parlay", stake_cents: stake, selections: selectionsBody(false) }]
      : selectionsBody(false).map((s) => ({ type: "straight", stake_cents: stake, selections: [s] }));
    pendingKey = pendingKey || bets.map(() => idemKey());
    for (let i = 0; i < bets.length; i++) {
      placed.push(await api("/api/v1/betting/bets", { method: "POST", body: bets[i], headers: { "Idempotency-Key": pendingKey[i] } }));
    }
    pendingKey = null;
    legs = [];
    save(); render();
    const receipt = { bets: placed.map((b) => ({ ...b, legs: b.legs.map((l) => ({ ...l, book_title: labels.get(slotKey(l)) || l.book })) })) };
    sessionStorage.setItem(RECEIPT, JSON.stringify(receipt));
    showReceipt(receipt);
    $("#slip-receipt").focus();
    refreshBalance();
  } catch (err) {
    if (placed.length) { // straight bets already accepted stay placed: drop them from the slip
      const ids = new Set(placed.flatMap((b) => b.legs.map((lg) => slotKey(lg))));
      legs = legs.filter((l) => !ids.has(slotKey(l)));
      pendingKey = null; save(); render();
      const receipt = { bets: placed };
      sessionStorage.setItem(RECEIPT, JSON.stringify(receipt));
      showReceipt(receipt);
    }
    if (err.code === "price_changed") promptChanges(err, place);
    else { if (err.status !== 0) pendingKey = null; showError(box, err); }
  } finally {
    button.disabled = false;
    placing = false;
  }
}

const isPanel = () => desktop.matches;

function open() {
  const slip = $("#slip");
  slip.hidden = false;
  $("#slip-open").setAttribute("aria-expanded", "true");
  render();
  if (!$("#slip-receipt").hidden) $("#slip-receipt").focus();
  else (legs.length ? $("#slip-stake") : isPanel() ? slip : $("#slip-close")).focus();
}

function close() {
  if (isPanel()) return;
  $("#slip").hidden = true;
  $("#slip-open").setAttribute("aria-expanded", "false");
  $("#slip-open").focus();
}

/** Drawer (phones, tablets) or side panel (desktop): the panel is always shown and never traps focus. */
let panelMode = null;
function layout() {
  const slip = $("#slip");
  if (isPanel() === panelMode) return;
  panelMode = isPanel();
  if (panelMode) {
    slip.hidden = false;
    slip.removeAttribute("role");
    slip.removeAttribute("aria-modal");
    $("#slip-open").setAttribute("aria-expanded", "true");
  } else { // a drawer starts closed (also when a window narrows from desktop to phone width)
    slip.setAttribute("role", "dialog");
    slip.setAttribute("aria-modal", "true");
    slip.hidden = true;
    $("#slip-open").setAttribute("aria-expanded", "false");
  }
}

/** Wire the slip on pages that include it. */
export function initSlip() {
  if (!$("#slip")) return;
  const stake = $("#slip-stake");
  const typed = sessionStorage.getItem(STAKE);
  const def = Number(sessionStorage.getItem("wb.defaultStake") || 0);
  if (typed !== null) stake.value = typed;
  else if (def > 0) stake.value = (def / 100).toFixed(2);
  layout();
  desktop.addEventListener("change", layout);
  $("#slip-open").addEventListener("click", () => ($("#slip").hidden || isPanel() ? open() : close()));
  $("#skip-slip")?.addEventListener("click", (ev) => { ev.preventDefault(); open(); });
  $("#slip-close").addEventListener("click", close);
  $$("input[name=slip-mode]").forEach((r) => r.addEventListener("change", () => { mode = r.value; pendingKey = null; render(); }));
  let t;
  stake.addEventListener("input", () => {
    sessionStorage.setItem(STAKE, stake.value);
    clearTimeout(t); pendingKey = null; t = setTimeout(quote, 250);
  });
  $("#slip-form").addEventListener("submit", (ev) => { ev.preventDefault(); place(); });
  $("#slip").addEventListener("keydown", (ev) => {
    if (isPanel()) return;
    if (ev.key === "Escape") { ev.preventDefault(); close(); return; }
    if (ev.key !== "Tab") return;
    const items = $$("button, input, a[href], select", $("#slip")).filter((e) => !e.disabled && e.offsetParent !== null);
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1];
    if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
  });
  // A change still waiting for its PUT goes out as the page goes away (keepalive outlives the page).
  window.addEventListener("pagehide", () => { if (syncTimer) push(true); });
  // Another tab changed the slip: show the same one here.
  window.addEventListener("storage", (ev) => { if (ev.key === SLIP) { legs = stored().legs; listeners.forEach((f) => f()); render(); } });
  try { showReceipt(JSON.parse(sessionStorage.getItem(RECEIPT) || "null")); } catch { showReceipt(null); }
  render();
  pull();
}
