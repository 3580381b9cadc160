// Roving tabindex over a grid of controls (the odds board): one Tab stop for the whole board, arrow
// keys move between prices, so the slip is a few Tabs away from any price whatever the board's size.

/** Make ``box``'s ``[data-nav]`` items one Tab stop; rows are ``[data-row]`` elements. */
export function roving(box) {
  let current = null;
  const items = () => Array.from(box.querySelectorAll("[data-nav]")).filter((e) => !e.disabled);
  const rowOf = (el) => el.closest("[data-row]");

  function set(el) {
    if (current && current !== el && current.isConnected) current.tabIndex = -1;
    current = el;
    if (el) el.tabIndex = 0;
  }

  /** After a render: every item out of the Tab order except the current one (or the first). */
  function refresh() {
    const all = items();
    for (const el of box.querySelectorAll("[data-nav]")) el.tabIndex = -1;
    if (!current || !current.isConnected || current.disabled) current = all[0] || null;
    if (current) current.tabIndex = 0;
  }

  function focus(el) { set(el); el.focus(); }

  box.addEventListener("focusin", (ev) => { const el = ev.target.closest("[data-nav]"); if (el && box.contains(el)) set(el); });
  box.addEventListener("keydown", (ev) => {
    const el = ev.target.closest ? ev.target.closest("[data-nav]") : null;
    if (!el) return;
    const all = items();
    const i = all.indexOf(el);
    let next = null;
    if (ev.key === "ArrowRight") next = all[i + 1];
    else if (ev.key === "ArrowLeft") next = all[i - 1];
    else if (ev.key === "Home") next = all[0];
    else if (ev.key === "End") next = all[all.length - 1];
    else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      const rows = Array.from(box.querySelectorAll("[data-row]"));
      const row = rowOf(el);
      const col = Array.from(row.querySelectorAll("[data-nav]")).indexOf(el);
      let r = rows.indexOf(row);
      for (;;) {
        r += ev.key === "ArrowDown" ? 1 : -1;
        if (r < 0 || r >= rows.length) break;
        const cand = Array.from(rows[r].querySelectorAll("[data-nav]"));
        const pick = cand[Math.min(col, cand.length - 1)];
        if (pick && !pick.disabled) { next = pick; break; }
      }
    } else return;
    ev.preventDefault();
    if (next) { focus(next); next.scrollIntoView({ block: "nearest" }); }
  });
  return { refresh, focus };
}
