// Bet history: the player's money figures, every bet with its legs, server-side filters, cursor paging.
import { api, requireLogin } from "./api.js";
import { $, h, chrome, money, fmtOdds, fmtPoint, fmtWhen, marketName, showError, clearMsg, onAccount } from "./ui.js";
import { initSlip } from "./slip.js";

let cursor = null;
const WORDS = { open: "Open", won: "Won", lost: "Lost", push: "Push", void: "Void", pending: "Pending" };

function legItem(l) {
  const pt = fmtPoint(l.point, l.market);
  const result = WORDS[l.result] || l.result;
  return h("li", { "data-leg": l.leg_no },
    h("strong", {}, `${l.outcome}${pt ? " " + pt : ""} ${fmtOdds(l.price)}`), ` · ${marketName(l.market)} · `,
    h("span", { class: `status status-${l.result === "pending" ? "open" : l.result}` }, result),
    h("span", { class: "leg-meta" }, `${l.away_team} @ ${l.home_team} · ${l.book_title || l.book}`),
    h("span", { class: "leg-meta" }, `Game ${fmtWhen(l.commence_time)}${l.graded_at ? ` · graded ${fmtWhen(l.graded_at)}` : ""}`));
}

function betCard(b) {
  const result = b.status === "open" ? `to win ${money(b.potential_payout_cents - b.stake_cents)} (returns ${money(b.potential_payout_cents)})`
    : `paid ${money(b.payout_cents)}`;
  const kind = b.type === "parlay" ? `${b.legs.length}-leg parlay` : "Straight";
  return h("article", { class: "card bet", "data-bet": b.id, "aria-labelledby": `bet-${b.id}` },
    h("h2", { id: `bet-${b.id}` }, `#${b.id} · ${kind} · `, h("span", { class: `status status-${b.status}` }, WORDS[b.status] || b.status)),
    h("p", {}, `${money(b.stake_cents)} staked, ${result}`),
    h("p", { class: "leg-meta" }, `Placed ${fmtWhen(b.placed_at)}${b.settled_at ? ` · settled ${fmtWhen(b.settled_at)}` : ""}`),
    h("ol", { class: "legs" }, b.legs.map(legItem)));
}

async function load(more) {
  const form = $("#history-filters");
  const box = $(".msg");
  clearMsg(box);
  const list = $("#history");
  const params = new URLSearchParams({ limit: "20" });
  for (const name of ["status", "type"]) if (form[name].value) params.set(name, form[name].value);
  if (form.from.value) params.set("from", form.from.value);
  if (form.to.value) { // "to" is inclusive here: the API's bound is exclusive, so send the next day
    const next = new Date(`${form.to.value}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    params.set("to", next.toISOString().slice(0, 10));
  }
  if (more && cursor) params.set("cursor", cursor);
  try {
    const data = await api(`/api/v1/betting/bets?${params}`);
    cursor = data.next_cursor;
    const cards = data.bets.map(betCard);
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
  onAccount((d) => {
    $("#acct-balance").textContent = money(d.balance_cents);
    $("#acct-available").textContent = money(d.available_cents);
    $("#acct-risk").textContent = money(d.pending_risk_cents);
    $("#account").setAttribute("aria-busy", "false");
  });
  chrome("player");
  initSlip();
  $("#history-filters").addEventListener("submit", (ev) => { ev.preventDefault(); load(false); });
  load(false);
}
