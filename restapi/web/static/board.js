// The odds pages: a league's board and the live board (one row per game: spread, total and moneyline
// at the best price across books) and the event page (every book, a table per market). Live over pushd.
import { api, requireLogin } from "./api.js";
import { $, h, chrome, fmtOdds, fmtPoint, fmtTime, ago, toast, refreshBalance, notifyWanted, marketName } from "./ui.js";
import { Live } from "./live.js";
import { Suspensions } from "./suspend.js";
import { initSlip, toggleSelection, legFor, onSlipChange, priceUpdate, placedHere } from "./slip.js";
import { roving } from "./nav.js";

const body = document.body;
const mode = body.dataset.page; // "board", "live" or "event"
const single = mode === "event";
const league = body.dataset.league || "";
const eventId = body.dataset.eventId || "";
const SAFE = /^[A-Za-z0-9_-]{1,64}$/;
const SHOWN = mode === "live" ? new Set(["live"]) : new Set(["live", "upcoming", "scheduled"]);
const MARKETS = ["spreads", "totals", "h2h"];
const events = new Map(); // id -> {id, league, home, away, commence, status, scores, books: Map(book -> markets)}
const cells = new Map(); // selection key (event|book|market|outcome) -> button (event page)
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

/** The best price for the bettor across books: at the line most books offer (spreads, totals), highest odds. */
export function best(ev, market, outcome) {
  const offers = [];
  for (const [book, markets] of ev.books) {
    const o = markets?.[market]?.[outcome];
    if (o && o.price !== null && o.price !== undefined) offers.push({ book, price: o.price, point: o.point ?? null });
  }
  if (!offers.length) return null;
  let pool = offers;
  if (market !== "h2h") {
    const counts = new Map();
    for (const o of offers) counts.set(o.point, (counts.get(o.point) || 0) + 1);
    const top = Math.max(...counts.values());
    const line = [...counts.keys()].filter((p) => counts.get(p) === top).sort((a, b) => Math.abs(a) - Math.abs(b))[0];
    pool = offers.filter((o) => o.point === line);
  }
  return pool.reduce((a, b) => (b.price > a.price || (b.price === a.price && b.book < a.book) ? b : a));
}

const outcomeName = (ev, market, side) => (market === "totals" ? (side === 0 ? "Over" : "Under") : side === 0 ? ev.away : ev.home);

/** Words around the visible point and price, for screen readers ("Lakers spread" … "at FanDuel, Lakers at Celtics"). */
function spoken(ev, market, outcome, book) {
  return [h("span", { class: "sr" }, `${outcome} ${marketName(market).toLowerCase()} `),
    h("span", { class: "sr" }, ` at ${bookTitles[book] || book}, ${ev.away} at ${ev.home}`)];
}

/** A price button: point above, odds below; pressed when the outcome is on the slip (at any book). */
function priceButton(ev, market, outcome, book, o, extra = "") {
  const slot = `${ev.id}|${market}|${outcome}`;
  if (!o || o.price === null || o.price === undefined) {
    return h("button", { type: "button", class: `price ${extra}`, disabled: true, "data-nav": "", "data-slot": slot, "data-market": market },
      h("span", { class: "sr" }, `${outcome} ${marketName(market).toLowerCase()} not offered `), "—");
  }
  const key = `${ev.id}|${book}|${market}|${outcome}`;
  const [before, after] = spoken(ev, market, outcome, book);
  const btn = h("button", { type: "button", class: `price ${extra}`, "data-sel": key, "data-slot": slot, "data-nav": "", "data-market": market,
    "aria-pressed": legFor(slot) ? "true" : "false" }, before,
  o.point != null ? h("small", {}, market === "totals" ? `${outcome === "Over" ? "O" : "U"} ${fmtPoint(o.point, market)}` : fmtPoint(o.point, market)) : null,
  h("span", { class: "odds-value" }, fmtOdds(o.price)), after);
  btn.addEventListener("click", () => {
    const on = legFor(slot);
    if (on) { toggleSelection(on); return; }
    const cur = single ? ev.books.get(book)?.[market]?.[outcome] : best(ev, market, outcome);
    const at = single ? book : cur?.book;
    if (!cur || cur.price == null) return;
    toggleSelection({ event_id: ev.id, book: at, market, outcome, price: cur.price, point: cur.point ?? null,
      matchup: `${ev.away} @ ${ev.home}`, book_title: bookTitles[at] || at });
  });
  cells.set(key, btn);
  return btn;
}

function minutesIn(ev) { return Math.max(0, Math.floor((Date.now() - Date.parse(ev.commence)) / 60000)); }

/** "Q3 7:42", "2nd half 67'", "Top 5th" when the feed gives the game's clock (the simulator does;
 * The Odds API gives scores only): else the minutes since the listed start. */
function liveText(ev) {
  const s = ev.scores || {};
  return s.period ? [s.period, s.clock].filter(Boolean).join(" ") : `${minutesIn(ev)} min in`;
}

function whenText(ev) {
  return ev.status === "live" ? liveText(ev) : fmtTime(ev.commence);
}

function teamLine(ev, side) {
  const name = side === 0 ? ev.away : ev.home;
  const score = ev.status === "live" && ev.scores ? ev.scores[side === 0 ? "away" : "home"] : null;
  return h("span", { class: "team" }, score !== null && score !== undefined ? h("span", { class: "score" }, String(score)) : null, name);
}

/** One board row: teams (a link to the event), then spread, total and moneyline at the best price. */
function gameRow(ev, flashes = {}) {
  const live = ev.status === "live";
  const t = lastT(ev);
  const top = h("div", { class: "game-top" },
    live ? h("span", { class: "badge-live" }, "LIVE") : null,
    h("span", { class: "when" }, whenText(ev)),
    mode === "live" && ev.league_title ? h("span", { class: "league-name" }, ev.league_title) : null,
    h("span", { class: "updated", "data-t": String(t) }, t ? ago(t) : ""));
  const link = h("a", { class: "teams", href: `/event/${ev.id}`, "data-nav": "" },
    teamLine(ev, 0), teamLine(ev, 1), h("span", { class: "sr" }, ": every book and market"));
  const buttons = [];
  for (const side of [0, 1]) {
    for (const market of MARKETS) {
      const outcome = outcomeName(ev, market, side);
      const b = best(ev, market, outcome);
      const slot = `${market}|${outcome}`;
      buttons.push(priceButton(ev, market, outcome, b?.book, b, `r${side + 2} ${market} ${flashes[slot] || ""}`));
    }
  }
  return h("article", { class: "game", id: `ev-${ev.id}`, "data-row": "", "data-league": ev.league || league,
    "data-live": String(live), "aria-label": `${ev.away} at ${ev.home}` }, top, link, ...buttons);
}

/** The event page: a table per market, one row per book, every column named. */
function eventView(ev) {
  const books = [...ev.books.keys()].sort((a, b) => (bookTitles[a] || a).localeCompare(bookTitles[b] || b));
  const live = ev.status === "live";
  const meta = h("p", { class: "event-meta" }, live ? h("span", { class: "badge-live" }, "LIVE") : null, " ",
    live && ev.scores ? `${ev.away} ${ev.scores.away}, ${ev.home} ${ev.scores.home} · ${liveText(ev)}` : `Starts ${fmtTime(ev.commence)}`,
    h("span", { class: "updated", "data-t": String(lastT(ev)) }, lastT(ev) ? ` · ${ago(lastT(ev))}` : ""));
  const section = (market) => {
    const cols = [outcomeName(ev, market, 0), outcomeName(ev, market, 1)];
    const name = marketName(market);
    return h("section", { class: "market", "aria-labelledby": `m-${market}` },
      h("h2", { id: `m-${market}` }, name),
      h("table", { class: "odds" },
        h("caption", { class: "sr" }, `${name} at every sportsbook`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Sportsbook"), cols.map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, books.map((book) => h("tr", { "data-row": "" }, h("th", { scope: "row" }, bookTitles[book] || book),
          cols.map((c) => h("td", {}, priceButton(ev, market, c, book, ev.books.get(book)?.[market]?.[c]))))))));
  };
  return h("div", { class: "ev", id: `ev-${ev.id}`, "data-league": ev.league || league, "data-live": String(live) },
    meta, ...["h2h", "spreads", "totals"].map(section));
}

const view = (ev, flashes) => (single ? eventView(ev) : gameRow(ev, flashes));
const CHUNK = 8; // rows rendered at once; more as the player scrolls near the end (no work on load)
let nav = null;
let more = null; // sentinel below the board: when it nears the viewport, the next rows render

const shown = () => [...events.values()].filter((e) => SHOWN.has(e.status));

/** Append up to CHUNK rows not on the page yet; true while more remain. */
function renderMore() {
  const box = $("#board");
  const todo = shown().filter((e) => !document.getElementById(`ev-${e.id}`));
  box.append(...todo.slice(0, CHUNK).map((e) => view(e)));
  nav.refresh();
  return todo.length > CHUNK;
}

function renderAll() {
  const box = $("#board");
  cells.clear();
  const list = shown();
  if (!list.length) box.replaceChildren(h("p", { class: "muted" }, mode === "live" ? "No games are live right now." : "No games on the board right now."));
  else box.replaceChildren(...list.slice(0, single ? list.length : CHUNK).map((e) => view(e)));
  box.setAttribute("aria-busy", "false");
  nav.refresh();
  if (single || list.length <= CHUNK) return;
  more = h("div", { class: "board-more", "aria-hidden": "true" });
  box.after(more);
  const io = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !renderMore()) { io.disconnect(); more.remove(); }
  }, { rootMargin: "300px 0px" });
  io.observe(more);
  // The keyboard reaches the last rendered row: render on as focus gets there.
  box.addEventListener("focusin", (ev) => { if (more.isConnected && ev.target.closest(".game") === box.lastElementChild) renderMore(); });
}

function redraw(ev, flashes) {
  const old = document.getElementById(`ev-${ev.id}`);
  if (!SHOWN.has(ev.status)) { if (old) old.remove(); return; }
  const focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest(`#ev-${CSS.escape(ev.id)}`) : null;
  const slot = focused ? document.activeElement.dataset.slot || (document.activeElement.classList.contains("teams") ? "teams" : null) : null;
  if (!old && more && more.isConnected) return; // not rendered yet: it comes with its chunk
  const fresh = view(ev, flashes);
  if (old) old.replaceWith(fresh); else $("#board").append(fresh);
  if (slot) {
    const again = slot === "teams" ? fresh.querySelector(".teams") : fresh.querySelector(`[data-slot="${CSS.escape(slot)}"]`);
    if (again) { nav.focus(again); }
  }
}

// Rows a frame changed, redrawn once each when the frame is applied: a snapshot or an odds frame
// that moves ten prices of one game costs one row, not ten (the board's main-thread work on load).
const dirty = new Map(); // id -> {ev, flashes}

function rerender(ev, flashes) {
  const prev = dirty.get(ev.id);
  dirty.set(ev.id, { ev, flashes: { ...(prev ? prev.flashes : {}), ...(flashes || {}) } });
}

function flush() {
  const todo = [...dirty.values()];
  dirty.clear();
  for (const { ev, flashes } of todo) redraw(ev, flashes);
  if (todo.length) nav.refresh(); // once per frame: it walks every control on the board
}

function flash(btn, dir) {
  btn.classList.remove("up", "down");
  void btn.offsetWidth; // restart the animation
  btn.classList.add(dir);
}

/** Apply one price change: the event page updates its button in place, the board recomputes the row's best prices. */
function applyPrice(c) {
  const ev = events.get(c.event);
  if (!ev) return;
  const markets = ev.books.get(c.book) || {};
  if (!ev.books.has(c.book)) ev.books.set(c.book, markets);
  markets[c.market] = markets[c.market] || {};
  const before = markets[c.market][c.outcome];
  const bestBefore = single ? null : best(ev, c.market, c.outcome);
  markets[c.market][c.outcome] = c.price === null ? null : { price: c.price, point: c.point, t: c.t };
  if (c.price !== null) priceUpdate(`${c.event}|${c.book}|${c.market}|${c.outcome}`, c.price, c.point);
  if (!document.getElementById(`ev-${ev.id}`)) return;
  if (!single) {
    const now = best(ev, c.market, c.outcome);
    if (bestBefore?.price === now?.price && bestBefore?.point === now?.point && bestBefore?.book === now?.book) {
      const upd = document.querySelector(`#ev-${CSS.escape(ev.id)} .updated`);
      if (upd) { upd.dataset.t = String(c.t); upd.textContent = ago(c.t); }
      return;
    }
    const dir = bestBefore && now && now.price !== bestBefore.price ? (now.price > bestBefore.price ? "up" : "down") : "";
    rerender(ev, { [`${c.market}|${c.outcome}`]: dir });
    return;
  }
  const key = `${c.event}|${c.book}|${c.market}|${c.outcome}`;
  const btn = cells.get(key);
  if (!btn || !btn.isConnected || c.price === null || !before) { rerender(ev); return; }
  const fresh = priceButton(ev, c.market, c.outcome, c.book, markets[c.market][c.outcome]);
  const had = document.activeElement === btn;
  fresh.tabIndex = btn.tabIndex;
  btn.replaceWith(fresh);
  if (had) fresh.focus();
  if (before.price !== c.price) flash(fresh, c.price > before.price ? "up" : "down");
  const upd = document.querySelector(`#ev-${CSS.escape(ev.id)} .updated`);
  if (upd) { upd.dataset.t = String(c.t); upd.textContent = ` · ${ago(c.t)}`; }
}

function wanted(raw) { return single ? raw.id === eventId : mode !== "live" || raw.status === "live"; }

function onFrame(f) {
  if (f.op === "snapshot") {
    const topicLeague = (f.topic || "").startsWith("sport:") ? f.topic.slice(6) : null;
    for (const raw of f.events) {
      if (single && raw.id !== eventId) continue;
      const ev = fromSnap(raw);
      const old = events.get(ev.id);
      if (!old && (!wanted(raw) || (!single && events.size >= 50))) continue;
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
      if (old.status !== ev.status || JSON.stringify(old.scores) !== JSON.stringify(ev.scores)) { old.status = ev.status; old.scores = ev.scores; rerender(old); }
    }
    if (!single) {
      const ids = new Set(f.events.map((e) => e.id));
      for (const [id, ev] of [...events]) {
        if (!ids.has(id) && (!topicLeague || !ev.league || ev.league === topicLeague)) { events.delete(id); rerender({ id, status: "removed" }); }
      }
    }
    flush();
    save();
  } else if (f.op === "odds") {
    for (const c of f.changes) {
      if (single && c.event !== eventId) continue;
      if (c.kind === "removed") { const ev = events.get(c.event); if (ev) { ev.status = "removed"; rerender(ev); events.delete(c.event); } }
      else if (c.kind === "event") {
        const ev = events.get(c.event);
        if (ev) { Object.assign(ev, { status: c.data.status, scores: c.data.scores, commence: c.data.commence }); rerender(ev); }
        else if (single || ((mode !== "live" || c.data.status === "live") && events.size < 50)) {
          const fresh = fromSnap({ ...c.data, odds: {} }); events.set(fresh.id, fresh); rerender(fresh);
        }
      } else applyPrice(c);
    }
    flush();
    save();
  } else if (f.op === "user") {
    // Private events of this player (bet accepted/graded, balance moved): say so and refresh the balance.
    const d = f.data || {};
    const text = f.kind === "bet.graded" ? `Bet #${d.bet_id ?? ""} graded: ${d.status ?? d.result ?? "settled"}`
      : f.kind === "bet.accepted" ? `Bet #${d.bet_id ?? ""} accepted` : f.kind === "balance.changed" ? "Your balance changed" : null;
    // The player's notification switches; a bet placed here already has its receipt on the slip.
    if (text && notifyWanted(f.kind) && !(f.kind === "bet.accepted" && placedHere(d.bet_id))) toast(text);
    refreshBalance();
  } else if (f.op === "broadcast" && f.kind === "switches.changed") {
    suspensions?.refresh(); // a kill switch moved: grey out (or back in) what now applies to this player
  } else if (f.op === "error" && f.code !== "invalid_ticket") {
    toast(f.message || "Live updates failed", "error");
  }
}

const storeKey = () => `wb.odds.${single ? "event." + eventId : mode === "live" ? "live" : league}`;
let saveTimer = null;
let suspensions = null;
const idle = window.requestIdleCallback || ((f) => setTimeout(f, 0));
function save() {
  if (saveTimer) return; // at most one copy every few seconds, written when the page is idle
  saveTimer = setTimeout(() => idle(() => {
    saveTimer = null;
    const data = [...events.values()].map((e) => ({ ...e, books: Object.fromEntries(e.books) }));
    try { localStorage.setItem(storeKey(), JSON.stringify({ saved: Date.now(), title, bookTitles, events: data })); } catch { /* storage full: fine */ }
  }), 3000);
}

function loadSaved() {
  try {
    const d = JSON.parse(localStorage.getItem(storeKey()) || "null");
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

const FEED = { live: "Live odds on", reconnecting: "Reconnecting…", connecting: "Connecting…", offline: "Odds offline", idle: "Odds offline" };
const FEED_LONG = { live: "Odds feed connected: prices on this page update by themselves",
  reconnecting: "Odds feed reconnecting: prices may be out of date", connecting: "Odds feed connecting",
  offline: "Odds feed offline: prices may be out of date", idle: "Odds feed offline" };

function setLive(state) {
  const el = $("#live");
  el.dataset.state = state;
  el.textContent = FEED[state] || FEED.offline;
  el.title = FEED_LONG[state] || FEED_LONG.offline;
  if (state === "live") $("#stale").hidden = true;
}

async function main() {
  if (!requireLogin("player")) return;
  const bad = (single && !SAFE.test(eventId)) || (mode === "board" && !SAFE.test(league));
  nav = roving($("#board"));
  if (bad) { $("#board").replaceChildren(h("p", { class: "error" }, "Unknown page")); return; }
  chrome("player");
  initSlip();
  onSlipChange(() => { for (const b of document.querySelectorAll("#board .price[data-slot]")) b.setAttribute("aria-pressed", legFor(b.dataset.slot) ? "true" : "false"); });
  let topics = [];
  try {
    const url = single ? `/api/v1/betting/events/${eventId}` : mode === "live" ? "/api/v1/betting/odds?status=live&limit=50"
      : `/api/v1/betting/odds?league=${league}&limit=50`;
    const { data, response } = await api(url, { withResponse: true, auth: false });
    const list = single ? [data] : data.events;
    bookTitles = {};
    for (const e of list) events.set(e.id, fromRest(e));
    const first = list[0];
    title = single ? `${first.away_team} @ ${first.home_team}` : mode === "live" ? "Live now" : (first ? first.league_title : league);
    if (single) { $("#back").href = `/league/${first.league}`; $("#back").textContent = `← ${first.league_title}`; }
    if (response.headers.get("X-Offline-Copy")) markStale(Date.parse(response.headers.get("Date") || "") || null);
  } catch (err) {
    const saved = loadSaved();
    if (saved === null) { $("#board").replaceChildren(h("p", { class: "error", role: "alert" }, err.message)); $("#board").setAttribute("aria-busy", "false"); return; }
    markStale(saved);
  }
  topics = single ? [`event:${eventId}`] : mode === "live" ? [...new Set([...events.values()].map((e) => `sport:${e.league}`))] : [`sport:${league}`];
  $("#board-title").textContent = title || league;
  document.title = `${title || league} · WagerBabe`;
  suspensions = new Suspensions($("#board"));
  renderAll();
  suspensions.refresh();
  setInterval(() => {
    for (const el of document.querySelectorAll(".updated[data-t]")) { const t = Number(el.dataset.t); if (t) el.textContent = (single ? " · " : "") + ago(t); }
  }, 1000);
  const live = new Live(body.dataset.pushUrl, { onFrame, onState: setLive });
  window.__wbLive = live;
  if (topics.length) live.subscribe(topics);
  // Connect once the rows from the REST answer are painted: pushd's snapshot (every price of the
  // league, compared with what is shown) then never holds up the first paint.
  requestAnimationFrame(() => setTimeout(() => live.start(), 0));
  // An open WebSocket keeps a page out of the back/forward cache: close it on pagehide, resume on return.
  window.addEventListener("pagehide", () => live.pause());
  window.addEventListener("pageshow", (ev) => { if (ev.persisted) live.resume(); });
  save();
}

main();
