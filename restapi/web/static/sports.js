// Sports sidebar: every sport and its leagues with game counts, in a virtual list (100+ leagues).
import { api, requireLogin } from "./api.js";
import { $, h, chrome, toast } from "./ui.js";
import { initSlip } from "./slip.js";

const ROW = 48; // px; must match .vrow height (3rem at the default 16px) — measured below for font scaling
const OVERSCAN = 6;

/** Flatten sports -> leagues into rows: a sport header then its leagues. */
export function rowsOf(sports, filter = "") {
  const f = filter.trim().toLowerCase();
  const rows = [];
  for (const s of sports) {
    const leagues = s.leagues.filter((l) => !f || l.title.toLowerCase().includes(f) || s.title.toLowerCase().includes(f));
    if (!leagues.length) continue;
    rows.push({ kind: "sport", title: s.title, games: s.games, live: s.live });
    for (const l of leagues) rows.push({ kind: "league", key: l.key, title: l.title, games: l.games, live: l.live });
  }
  return rows;
}

/** Position through the CSSOM: a strict CSP refuses style attributes but not element.style. */
function placed(el, index, height) { el.style.top = `${index * height}px`; return el; }

function rowEl(row, index, total, height) {
  if (row.kind === "sport") {
    return placed(h("div", { class: "vrow sport", role: "listitem", "aria-setsize": total, "aria-posinset": index + 1 },
      h("span", {}, row.title), h("span", { class: "count" }, h("span", { class: "sr" }, ", "), row.games, h("span", { class: "sr" }, " games"))),
    index, height);
  }
  // A listitem takes its name from aria-label only (not from its content), so the label is the
  // visible text in its order plus words: "NBA, 2 live, 48 games" for "NBA  2 live  48" (label-in-name).
  return placed(h("a", { class: "vrow", href: `/league/${row.key}`, role: "listitem", "data-league": row.key,
    "aria-setsize": total, "aria-posinset": index + 1, "aria-label": `${row.title}${row.live ? `, ${row.live} live` : ""}, ${row.games} games` },
  h("span", {}, row.title), row.live ? h("span", { class: "livec" }, `${row.live} live`) : null,
  h("span", { class: "count" }, row.games)), index, height);
}

function mount(box, sports) {
  let rows = rowsOf(sports);
  const spacer = h("div", { class: "spacer" });
  box.replaceChildren(spacer);
  const height = () => {
    const px = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    return Math.round(3 * px);
  };
  let last = "";
  function render() {
    const rh = height();
    spacer.style.height = `${rows.length * rh}px`;
    const first = Math.max(0, Math.floor(box.scrollTop / rh) - OVERSCAN);
    const end = Math.min(rows.length, Math.ceil((box.scrollTop + box.clientHeight) / rh) + OVERSCAN);
    const sig = `${first}:${end}:${rows.length}:${rh}`;
    if (sig === last) return;
    last = sig;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.league : null;
    spacer.replaceChildren(...rows.slice(first, end).map((r, i) => rowEl(r, first + i, rows.length, rh)));
    if (focused) { const el = spacer.querySelector(`[data-league="${focused}"]`); if (el) el.focus({ preventScroll: true }); }
  }
  box.addEventListener("scroll", () => requestAnimationFrame(render), { passive: true });
  window.addEventListener("resize", () => { last = ""; render(); });
  // Keyboard: arrow keys move between leagues and scroll the list so the focus never leaves the rendered window.
  box.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    const cur = document.activeElement;
    const idx = cur && cur.getAttribute("aria-posinset") ? Number(cur.getAttribute("aria-posinset")) - 1 : -1;
    let next = idx + (ev.key === "ArrowDown" ? 1 : -1);
    while (rows[next] && rows[next].kind !== "league") next += ev.key === "ArrowDown" ? 1 : -1;
    if (!rows[next]) return;
    ev.preventDefault();
    const rh = height();
    if (next * rh < box.scrollTop || (next + 1) * rh > box.scrollTop + box.clientHeight) box.scrollTop = next * rh - box.clientHeight / 2;
    last = ""; render();
    const el = spacer.querySelector(`[aria-posinset="${next + 1}"]`);
    if (el) el.focus();
  });
  $("#league-filter").addEventListener("input", (ev) => { rows = rowsOf(sports, ev.target.value); box.scrollTop = 0; last = ""; render(); });
  render();
  box.setAttribute("aria-busy", "false");
}

async function main() {
  if (!requireLogin("player")) return;
  chrome("player");
  initSlip();
  const box = $("#sidebar");
  try {
    const data = await api("/api/v1/shared/sidebar");
    mount(box, data.sports);
  } catch (err) {
    box.setAttribute("aria-busy", "false");
    box.replaceChildren(h("p", { class: "error", role: "alert" }, err.message));
    toast(err.message, "error");
  }
}

main();
