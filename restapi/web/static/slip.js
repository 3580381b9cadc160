// Bet slip drawer: selections kept on the server (/betting/slip, so another device or tab sees the
// same slip) with a sessionStorage copy for instant paints, payouts from /betting/quote, placement
// with an Idempotency-Key, price-change prompt on 409, green confirmation. Keyboard: Esc closes,
// Tab stays inside.
import { api, idemKey } from "./api.js";
import { $, $$, h, money, parseMoney, fmtOdds, fmtPoint, showError, clearMsg, refreshBalance } from "./ui.js";

const KEY = "wb.slip";
const listeners = new Set();
let legs = load();
let mode = "straight";
let quoteSeq = 0;
let pendingKey = null; // reused when the same placement is retried after a network error

let syncTimer = null;
let changes = 0; // local edits so far: a server slip read before the latest edit is stale

function load() { try { return JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch { return []; } }
function keep() { sessionStorage.setItem(KEY, JSON.stringify(legs)); listeners.forEach((f) => f()); }
function save() {
  changes += 1;
  keep();
  clearTimeout(syncTimer);
  syncTimer = setTimeout(push, 250); // a burst of taps becomes one PUT
}

/** Store the slip on the server (it lives BETTING_SLIP_TTL after the last change). */
async function push(keepalive = false) {
  clearTimeout(syncTimer);
  syncTimer = null;
  try {
    await api("/api/v1/betting/slip", { method: "PUT", keepalive, body: { parlay_stake_cents: null, selections: legs.map((l) => (
      { event_id: l.event_id, market: l.market, outcome: l.outcome, point: l.point, book: l.book, price: l.price })) } });
  } catch { /* offline or a selection left the board: the local slip still works; the next change retries */ }
}

/** Take the server's slip (what this player picked on another device or tab), keeping local labels. */
async function pull() {
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
  keep();
  render();
}

export const selKey = (s) => `${s.event_id}|${s.book}|${s.market}|${s.outcome}`;
export function isSelected(key) { return legs.some((l) => selKey(l) === key); }
export function onSlipChange(f) { listeners.add(f); }

/** Add the selection, or remove it when it is already on the slip. */
export function toggleSelection(sel) {
  const k = selKey(sel);
  if (isSelected(k)) legs = legs.filter((l) => selKey(l) !== k);
  else legs = [...legs.filter((l) => !(l.event_id === sel.event_id && l.market === sel.market && l.outcome === sel.outcome)), sel];
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

function legLabel(l) {
  const pt = fmtPoint(l.point, l.market);
  const market = l.market === "h2h" ? "Moneyline" : l.market === "spreads" ? "Spread" : "Total";
  return `${l.outcome}${pt ? " " + pt : ""} · ${market} · ${l.matchup} · ${l.book_title || l.book}`;
}

function stakeCents() { return parseMoney($("#slip-stake").value); }

function render() {
  const list = $("#slip-legs");
  if (!list) return;
  $("#slip-count").textContent = String(legs.length);
  $("#slip-open").setAttribute("aria-label", `Bet slip, ${legs.length} selection${legs.length === 1 ? "" : "s"}`);
  $("#slip-empty").hidden = legs.length > 0;
  $("#slip-form").hidden = legs.length === 0;
  list.replaceChildren(...legs.map((l) => {
    const moved = l.live_price !== undefined && l.live_price !== l.price;
    return h("li", { dataset: { sel: selKey(l) } },
      h("span", {}, legLabel(l), " ", h("strong", {}, fmtOdds(l.price)),
        moved ? h("em", { class: "moved" }, ` → now ${fmtOdds(l.live_price)}`) : null),
      h("button", { type: "button", class: "icon", "aria-label": `Remove ${l.outcome} ${l.market} from the slip`,
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
        : `Parlay ${fmtOdds(p.american)} · returns ${money(p.payout_cents)}`;
    } else {
      const total = q.selections.reduce((s, x) => s + (x.payout_cents || 0), 0);
      out.textContent = `Returns ${money(total)} for ${money(stake * legs.length)} staked`;
    }
  } catch (err) {
    if (seq === quoteSeq) out.textContent = `Payout unavailable: ${err.message}`;
  }
}

function promptChanges(err, retry) {
  const box = $("#slip-prompt");
  const changes = (err.details && err.details.changes) || [];
  const lines = changes.map((c) => {
    const l = legs[c.selection] || {};
    return c.off_board ? `${l.outcome || c.outcome}: no longer on the board`
      : `${l.outcome || c.outcome}: ${fmtOdds(c.price_seen)} → ${fmtOdds(c.price)}`;
  });
  box.replaceChildren(h("p", {}, "Prices changed since you added them:"), h("ul", {}, lines.map((t) => h("li", {}, t))),
    h("button", { type: "button", class: "primary", id: "slip-accept", onclick: () => {
      for (const c of changes) {
        const l = legs[c.selection];
        if (l && !c.off_board) { l.price = c.price; l.point = c.point; delete l.live_price; delete l.live_point; }
      }
      legs = legs.filter((l, i) => !changes.some((c) => c.off_board && c.selection === i));
      box.hidden = true;
      pendingKey = null;
      save(); render();
      retry();
    } }, "Accept new prices"),
    h("button", { type: "button", onclick: () => { box.hidden = true; $("#slip-place").focus(); } }, "Cancel"));
  box.hidden = false;
  $("#slip-accept").focus();
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
  const placed = [];
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
    const done = $("#slip-done");
    const total = placed.reduce((s, b) => s + b.potential_payout_cents, 0);
    done.replaceChildren(h("p", { class: "ok" }, placed.length === 1
      ? `Bet placed: #${placed[0].id} (${placed[0].type}), returns ${money(total)}`
      : `${placed.length} bets placed: ${placed.map((b) => "#" + b.id).join(", ")}, returns ${money(total)}`),
    h("a", { href: "/history" }, "See your bets"));
    done.hidden = false;
    done.focus();
    refreshBalance();
  } catch (err) {
    if (placed.length) { // straight bets already accepted stay placed: drop them from the slip
      const ids = new Set(placed.flatMap((b) => b.legs.map((lg) => `${lg.event_id}|${lg.market}|${lg.outcome}`)));
      legs = legs.filter((l) => !ids.has(`${l.event_id}|${l.market}|${l.outcome}`));
      pendingKey = null; save(); render();
    }
    if (err.code === "price_changed") promptChanges(err, place);
    else { if (err.status !== 0) pendingKey = null; showError(box, err); }
  } finally {
    button.disabled = false;
  }
}

function open() {
  const slip = $("#slip");
  slip.hidden = false;
  $("#slip-open").setAttribute("aria-expanded", "true");
  $("#slip-done").hidden = true;
  render();
  (legs.length ? $("#slip-stake") : $("#slip-close")).focus();
}

function close() {
  $("#slip").hidden = true;
  $("#slip-open").setAttribute("aria-expanded", "false");
  $("#slip-open").focus();
}

/** Wire the drawer on pages that include it. */
export function initSlip() {
  if (!$("#slip")) return;
  const stake = $("#slip-stake");
  const def = Number(sessionStorage.getItem("wb.defaultStake") || 0);
  if (def > 0) stake.value = (def / 100).toFixed(2);
  $("#slip-open").addEventListener("click", () => ($("#slip").hidden ? open() : close()));
  $("#slip-close").addEventListener("click", close);
  $$("input[name=slip-mode]").forEach((r) => r.addEventListener("change", () => { mode = r.value; pendingKey = null; render(); }));
  let t;
  stake.addEventListener("input", () => { clearTimeout(t); pendingKey = null; t = setTimeout(quote, 250); });
  $("#slip-form").addEventListener("submit", (ev) => { ev.preventDefault(); place(); });
  $("#slip").addEventListener("keydown", (ev) => {
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
  render();
  pull();
}
