// Kill switches on the odds board: prices a thrown switch covers are greyed out and cannot be picked.
// The switches that apply to this player come from the API; pushd's "switches.changed" broadcast
// says when to fetch them again. Games are found by their markup ([id^="ev-"][data-league] rows and the
// event page, button.price[data-market]), so the board only tells this module when a broadcast arrives.
import { api } from "./api.js";
import { $$, toast } from "./ui.js";

const CARD = '[id^="ev-"][data-league]';

export class Suspensions {
  constructor(root) {
    this.root = root;
    this.switches = [];
    // Grey the cards the board (re)renders, only those (we change attributes only, so this never
    // loops); text updates ("updated 5s ago", every second) add no element and cost nothing.
    new MutationObserver((records) => {
      const cards = new Set();
      for (const r of records) {
        for (const n of r.addedNodes) {
          if (n.nodeType !== 1) continue;
          const card = n.closest(CARD);
          if (card) cards.add(card);
          else n.querySelectorAll(CARD).forEach((c) => cards.add(c));
        }
      }
      if (cards.size) this.apply([...cards]);
    }).observe(root, { childList: true, subtree: true });
    // Capture phase: a click on a greyed price never reaches the board's handler.
    root.addEventListener("click", (ev) => {
      const btn = ev.target.closest && ev.target.closest("button.price.suspended");
      if (!btn) return;
      ev.preventDefault();
      ev.stopPropagation();
      toast(btn.dataset.suspendedWhy || "Betting is suspended here right now", "error");
    }, true);
  }

  async refresh() {
    try { this.switches = (await api("/api/v1/switches/active")).switches; } catch { return; }
    this.apply();
  }

  /** The first switch covering a market of an event (null: open). */
  covers(event, league, live, market) {
    const sport = league.split("_")[0];
    for (const s of this.switches) {
      const t = s.target;
      if (s.scope === "global" || (s.scope === "sport" && t === sport) || (s.scope === "league" && t === league)
          || (s.scope === "event" && t === event) || (s.scope === "market" && t === `${event}/${market}`)
          || (s.scope === "feature" && t === "live_betting" && live)) return s;
    }
    return null;
  }

  /** Grey or un-grey the prices of ``cards`` (all of them when a switch moved). */
  apply(cards = $$(CARD, this.root)) {
    // Nothing thrown and nothing greyed (the usual case): no price to look at.
    if (!this.switches.length && !this.root.querySelector("button.price.suspended")) return;
    for (const card of cards) {
      const event = card.id.replace(/^ev-/, "");
      const league = card.dataset.league || "";
      const live = card.dataset.live === "true";
      for (const btn of $$("button.price", card)) {
        const hit = this.covers(event, league, live, btn.dataset.market || "");
        const on = !!hit;
        if (btn.classList.contains("suspended") === on) continue;
        btn.classList.toggle("suspended", on);
        if (on) {
          btn.setAttribute("aria-disabled", "true");
          btn.dataset.suspendedWhy = `Betting is suspended here: ${hit.reason}`;
          btn.title = btn.dataset.suspendedWhy;
        } else {
          btn.removeAttribute("aria-disabled");
          delete btn.dataset.suspendedWhy;
          btn.removeAttribute("title");
        }
      }
    }
  }
}
