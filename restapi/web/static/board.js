// Odds board of a league (and the event page): several books, "updated Ns ago", live over pushd.
import { api, requireLogin } from "./api.js";
import { $, h, chrome, fmtOdds, fmtPoint, fmtTime, ago, toast, refreshBalance, notifyWanted } from "./ui.js";
import { Live } from "./live.js";
import { Suspensions } from "./suspend.js";
import { initSlip, toggleSelection, isSelected, onSlipChange, priceUpdate, selKey } from "./slip.js";

const body = document.body;
const single = body.dataset.page === "event";
const league = body.dataset.league || "";
const eventId = body.dataset.eventId || "";
const SAFE = /^[A-Za-z0-9_-]{1,64}$/;
const SHOWN = new Set(["live", "upcoming", "scheduled"]);
const events = new Map(); // id -> {id, league, home, away, commence, status, books: Map(book -> {title, markets})}
const cells = new Map(); // selection key -> button
let bookTitles = {};
let title = "";

/** The catalog's REST event (The Odds API shape) as the board's model. */
export function fromRest(ev) {
  const books = new Map();
  for (const b of ev.bookmakers || []) {
    const markets = {};
    for (const m of b.markets) {
      markets[m.key] = {};
      for (const o of m.outcomes) markets[m.key][o.name] = { price: o.price, point: o.point, t: Date.parse(o.last_update) };
    }
    books.set(b.key, markets);
    bookTitles[b.key] = b.title;
  }
  return { id: ev.id, league: ev.league, league_title: ev.league_title, home: ev.home_team, away: ev.away_team,
    commence: ev.commence_time, status: ev.status, scores: ev.scores, books };
}

/** A pushd snapshot event (the snap:{league} shape) as the board's model. */
export function fromSnap(ev) {
  const books = new Map();
  for (const [book, markets] of Object.entries(ev.odds || {})) {
    const copy = {};
    for (const [m, outs] of Object.entries(markets)) copy[m] = { ...outs };
    books.set(book, copy);
  }
  return { id: ev.id, league: ev.league, home: ev.home, away: ev.away, commence: ev.commence, status: ev.status,
    scores: ev.scores, books };
}

function lastT(ev) {
  let t = 0;
  for (const markets of ev.books.values()) for (const outs of Object.values(markets)) for (const o of Object.values(outs)) if (o && o.t > t) t = o.t;
  return t;
}

/** Write a price into its button (text, label, enabled): cheap enough for every live change. */
function fillButton(btn, o, book, market, outcome) {
  const label = market === "h2h" ? "moneyline" : market === "spreads" ? "spread" : "total";
  const on = !!o && o.price !== null && o.price !== undefined;
  btn.disabled = !on;
  btn.setAttribute("aria-label", on ? `${outcome} ${label} ${fmtPoint(o.point, market)} ${fmtOdds(o.price)} at ${bookTitles[book] || book}` : `${outcome} ${label} not offered`);
  btn.replaceChildren(...(on && o.point != null ? [h("small", {}, fmtPoint(o.point, market))] : []), on ? fmtOdds(o.price) : "—");
}

function priceButton(ev, book, market, outcome) {
  const o = ev.books.get(book)?.[market]?.[outcome];
  const sel = { event_id: ev.id, book, market, outcome, price: o ? o.price : null, point: o ? o.point : null };
  const key = selKey(sel);
  const btn = h("button", { type: "button", class: "price", "data-sel": key, "data-market": market, "aria-pressed": isSelected(key) ? "true" : "false" });
  fillButton(btn, o, book, market, outcome);
  btn.addEventListener("click", () => {
    const cur = ev.books.get(book)?.[market]?.[outcome];
    if (!cur || cur.price == null) return;
    toggleSelection({ ...sel, price: cur.price, point: cur.point, matchup: `${ev.away} @ ${ev.home}`, book_title: bookTitles[book] || book });
  });
  cells.set(key, btn);
  return btn;
}

function table(ev, caption, columns, books) {
  return h("table", { class: "odds" },
    h("caption", { class: "sr" }, `${caption}: ${ev.away} at ${ev.home}`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Book"), columns.map(([label]) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, books.map((book) => h("tr", {}, h("th", { scope: "row" }, bookTitles[book] || book),
      columns.map(([, market, outcome]) => h("td", {}, priceButton(ev, book, market, outcome)))))));
}

function card(ev) {
  const books = [...ev.books.keys()].sort().slice(0, single ? 20 : 4);
  const live = ev.status === "live";
  const head = h("div", { class: "ev-head" },
    live ? h("span", { class: "badge-live" }, "LIVE") : null,
    single ? h("h2", {}, `${ev.away} @ ${ev.home}`) : h("a", { href: `/event/${ev.id}` }, `${ev.away} @ ${ev.home}`),
    h("span", { class: "when" }, live && ev.scores ? `${ev.scores.away}–${ev.scores.home}` : fmtTime(ev.commence)));
  const parts = single
    ? [table(ev, "Moneyline", [[ev.away, "h2h", ev.away], [ev.home, "h2h", ev.home]], books),
      table(ev, "Spread", [[ev.away, "spreads", ev.away], [ev.home, "spreads", ev.home]], books),
      table(ev, "Total", [["Over", "totals", "Over"], ["Under", "totals", "Under"]], books)]
    : [table(ev, "Odds", [["Away", "h2h", ev.away], ["Home", "h2h", ev.home], ["Over", "totals", "Over"], ["Under", "totals", "Under"]], books)];
  return h("article", { class: "ev", id: `ev-${ev.id}`, "data-league": ev.league || league, "data-live": String(live),
    "aria-label": `${ev.away} at ${ev.home}` }, head, ...parts,
    h("p", { class: "updated", "data-t": String(lastT(ev)) }, lastT(ev) ? ago(lastT(ev)) : ""));
}

const FIRST = 4; // cards rendered at once; the rest follow in small tasks so input never waits long

function renderAll() {
  const box = $("#board");
  cells.clear();
  const list = [...events.values()].filter((e) => SHOWN.has(e.status));
  if (!list.length) box.replaceChildren(h("p", { class: "muted" }, "No games on the board right now."));
  else box.replaceChildren(...list.slice(0, FIRST).map(card));
  box.setAttribute("aria-busy", "false");
  let i = FIRST;
  const more = () => {
    const end = Math.min(list.length, i + 3);
    for (; i < end; i++) if (events.has(list[i].id) && !document.getElementById(`ev-${list[i].id}`)) box.append(card(list[i]));
    if (i < list.length) setTimeout(more, 0);
  };
  if (i < list.length) setTimeout(more, 0);
}

function rerender(ev) {
  const old = document.getElementById(`ev-${ev.id}`);
  if (!SHOWN.has(ev.status)) { if (old) old.remove(); return; }
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.sel : null;
  const fresh = card(ev);
  if (old) old.replaceWith(fresh); else $("#board").append(fresh);
  if (focused && cells.get(focused)) cells.get(focused).focus();
}

function flash(btn, dir) {
  btn.classList.remove("up", "down");
  void btn.offsetWidth; // restart the animation
  btn.classList.add(dir);
}

/** Apply one price change in place: new text, a flash up or down, the "updated" line. */
function applyPrice(c) {
  const ev = events.get(c.event);
  if (!ev) return;
  const markets = ev.books.get(c.book) || {};
  if (!ev.books.has(c.book)) ev.books.set(c.book, markets);
  markets[c.market] = markets[c.market] || {};
  const before = markets[c.market][c.outcome];
  markets[c.market][c.outcome] = c.price === null ? null : { price: c.price, point: c.point, t: c.t };
  const key = `${c.event}|${c.book}|${c.market}|${c.outcome}`;
  const btn = cells.get(key);
  if (!btn || !btn.isConnected) { if (document.getElementById(`ev-${ev.id}`)) rerender(ev); return; }
  fillButton(btn, markets[c.market][c.outcome], c.book, c.market, c.outcome);
  if (before && c.price !== null && before.price !== c.price) flash(btn, c.price > before.price ? "up" : "down");
  const upd = document.querySelector(`#ev-${CSS.escape(ev.id)} .updated`);
  if (upd) { upd.dataset.t = String(c.t); upd.textContent = ago(c.t); }
  if (c.price !== null) priceUpdate(key, c.price, c.point);
}

function onFrame(f) {
  if (f.op === "snapshot") {
    for (const raw of f.events) {
      if (single && raw.id !== eventId) continue;
      const ev = fromSnap(raw);
      const old = events.get(ev.id);
      if (!old && !single && events.size >= 50) continue;
      if (!old) { events.set(ev.id, ev); rerender(ev); continue; }
      for (const [book, markets] of ev.books) {
        for (const [m, outs] of Object.entries(markets)) {
          for (const [o, p] of Object.entries(outs)) {
            const prev = old.books.get(book)?.[m]?.[o];
            if (!prev || !p || prev.price !== p.price || prev.point !== p.point) {
              applyPrice({ event: ev.id, book, market: m, outcome: o, price: p ? p.price : null, point: p ? p.point : null, t: p ? p.t : Date.now() });
            }
          }
        }
      }
      if (old.status !== ev.status) { old.status = ev.status; old.scores = ev.scores; rerender(old); }
    }
    if (!single) {
      const ids = new Set(f.events.map((e) => e.id));
      for (const id of [...events.keys()]) if (!ids.has(id)) { events.delete(id); rerender({ id, status: "removed" }); }
    }
    save();
  } else if (f.op === "odds") {
    for (const c of f.changes) {
      if (single && c.event !== eventId) continue;
      if (c.kind === "removed") { const ev = events.get(c.event); if (ev) { ev.status = "removed"; rerender(ev); events.delete(c.event); } }
      else if (c.kind === "event") {
        const ev = events.get(c.event);
        if (ev) { Object.assign(ev, { status: c.data.status, scores: c.data.scores, commence: c.data.commence }); rerender(ev); }
        else if (single || events.size < 50) { const fresh = fromSnap({ ...c.data, odds: {} }); events.set(fresh.id, fresh); rerender(fresh); }
      } else applyPrice(c);
    }
    save();
  } else if (f.op === "user") {
    // Private events of this player (bet accepted/graded, balance moved): say so and refresh the balance.
    const d = f.data || {};
    const text = f.kind === "bet.graded" ? `Bet #${d.bet_id ?? ""} graded: ${d.status ?? d.result ?? "settled"}`
      : f.kind === "bet.accepted" ? `Bet #${d.bet_id ?? ""} accepted` : f.kind === "balance.changed" ? "Your balance changed" : null;
    if (text && notifyWanted(f.kind)) toast(text); // the player's notification switches
    refreshBalance();
  } else if (f.op === "broadcast" && f.kind === "switches.changed") {
    suspensions.refresh(); // a kill switch moved: grey out (or back in) what now applies to this player
  } else if (f.op === "error" && f.code !== "invalid_ticket") {
    toast(f.message || "Live updates failed", "error");
  }
}

let saveTimer = null;
let suspensions = null;
const idle = window.requestIdleCallback || ((f) => setTimeout(f, 0));
function save() {
  if (saveTimer) return; // at most one copy every few seconds, written when the page is idle
  saveTimer = setTimeout(() => idle(() => {
    saveTimer = null;
    const data = [...events.values()].map((e) => ({ ...e, books: Object.fromEntries(e.books) }));
    try { localStorage.setItem(`wb.odds.${single ? "event." + eventId : league}`, JSON.stringify({ saved: Date.now(), title, bookTitles, events: data })); } catch { /* storage full: fine */ }
  }), 3000);
}

function loadSaved() {
  try {
    const d = JSON.parse(localStorage.getItem(`wb.odds.${single ? "event." + eventId : league}`) || "null");
    if (!d) return null;
    bookTitles = d.bookTitles || {};
    for (const e of d.events) events.set(e.id, { ...e, books: new Map(Object.entries(e.books)) });
    title = d.title || title;
    return d.saved;
  } catch { return null; }
}

function markStale(when) {
  const el = $("#stale");
  el.textContent = `Offline: showing the odds saved ${when ? new Date(when).toLocaleTimeString() : "earlier"}. Prices may have changed.`;
  el.hidden = false;
}

function setLive(state) {
  const el = $("#live");
  el.dataset.state = state;
  el.textContent = state === "live" ? "● Live" : state === "reconnecting" || state === "connecting" ? "Reconnecting…" : "Offline";
  if (state === "live") $("#stale").hidden = true;
}

async function main() {
  if (!requireLogin("player")) return;
  if ((single && !SAFE.test(eventId)) || (!single && !SAFE.test(league))) { $("#board").replaceChildren(h("p", { class: "error" }, "Unknown page")); return; }
  chrome("player");
  initSlip();
  onSlipChange(() => { for (const [k, b] of cells) b.setAttribute("aria-pressed", isSelected(k) ? "true" : "false"); });
  let leagueKey = league;
  try {
    const { data, response } = single
      ? await api(`/api/v1/betting/events/${eventId}`, { withResponse: true, auth: false })
      : await api(`/api/v1/betting/odds?league=${league}&limit=50`, { withResponse: true, auth: false });
    const list = single ? [data] : data.events;
    bookTitles = {};
    for (const e of list) events.set(e.id, fromRest(e));
    const first = list[0];
    title = single ? `${first.away_team} @ ${first.home_team}` : (first ? first.league_title : league);
    if (single) { leagueKey = first.league; $("#back").href = `/league/${first.league}`; $("#back").textContent = `← ${first.league_title}`; }
    if (response.headers.get("X-Offline-Copy")) markStale(Date.parse(response.headers.get("Date") || "") || null);
  } catch (err) {
    const saved = loadSaved();
    if (saved === null) { $("#board").replaceChildren(h("p", { class: "error", role: "alert" }, err.message)); $("#board").setAttribute("aria-busy", "false"); return; }
    markStale(saved);
  }
  $("#board-title").textContent = title || league;
  document.title = `${title || league} · WagerBabe`;
  suspensions = new Suspensions($("#board"));
  renderAll();
  suspensions.refresh();
  setInterval(() => { for (const el of document.querySelectorAll(".updated[data-t]")) { const t = Number(el.dataset.t); if (t) el.textContent = ago(t); } }, 1000);
  const live = new Live(body.dataset.pushUrl, { onFrame, onState: setLive });
  window.__wbLive = live;
  live.subscribe([single ? `event:${eventId}` : `sport:${leagueKey}`]);
  live.start();
  // An open WebSocket keeps a page out of the back/forward cache: close it on pagehide, resume on return.
  window.addEventListener("pagehide", () => live.pause());
  window.addEventListener("pageshow", (ev) => { if (ev.persisted) live.resume(); });
  save();
}

main();
