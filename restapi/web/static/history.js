// Bet history with filters (status, type, date range) and cursor paging.
import { api, requireLogin } from "./api.js";
import { $, h, chrome, money, fmtOdds, fmtPoint, fmtDate, showError, clearMsg } from "./ui.js";

let cursor = null;

function betCard(b) {
  const legs = b.legs.map((l) => h("li", {}, `${l.outcome}${l.point != null ? " " + fmtPoint(l.point, l.market) : ""} ${fmtOdds(l.price)} · ${l.away_team} @ ${l.home_team}`,
    l.result !== "pending" ? h("span", { class: "muted" }, ` (${l.result})`) : null));
  const result = b.status === "open" ? `to return ${money(b.potential_payout_cents)}` : `paid ${money(b.payout_cents)}`;
  return h("article", { class: "card bet", "data-bet": b.id, "aria-label": `Bet ${b.id}` },
    h("h2", {}, `#${b.id} · ${b.type === "parlay" ? `${b.legs.length}-leg parlay` : "Straight"} · ${b.status}`),
    h("p", {}, `${money(b.stake_cents)} staked, ${result} · ${fmtDate(b.placed_at)}`),
    h("ul", {}, legs));
}

async function load(more) {
  const form = $("#history-filters");
  const box = $(".msg");
  clearMsg(box);
  const list = $("#history");
  const params = new URLSearchParams({ limit: "20" });
  if (form.status.value) params.set("status", form.status.value === "open" ? "open" : form.status.value);
  if (form.from.value) params.set("from", `${form.from.value}T00:00:00Z`);
  if (form.to.value) params.set("to", `${form.to.value}T23:59:59Z`);
  if (more && cursor) params.set("cursor", cursor);
  try {
    const data = await api(`/api/v1/betting/bets?${params}`);
    const type = form.type.value;
    const bets = data.bets.filter((b) => !type || b.type === type);
    cursor = data.next_cursor;
    const cards = bets.map(betCard);
    if (more) { $("#more")?.remove(); list.append(...cards); } else list.replaceChildren(...cards);
    if (!list.children.length) list.append(h("p", { class: "muted" }, "No bets match these filters."));
    if (cursor) list.append(h("button", { type: "button", id: "more", onclick: () => load(true) }, "Load more"));
  } catch (err) {
    list.replaceChildren();
    showError(box, err);
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

if (requireLogin("player")) {
  chrome("player");
  $("#history-filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(false); });
  load(false);
}
