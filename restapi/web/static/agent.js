// Agent back office: dashboard, customers, customer detail, cashier, settlements, reports.
import { api, requireLogin, idemKey } from "./api.js";
import { $, $$, h, chrome, money, parseMoney, fmtDate, showError, showOk, clearMsg, toast } from "./ui.js";

const page = document.body.dataset.page;
const cls = (cents) => (cents < 0 ? "num neg" : "num");
const cell = (text, c, sortValue) => h("td", { class: c || null, "data-v": sortValue ?? null }, text);
const moneyCell = (cents, c) => cell(money(cents), c || cls(cents), cents);

// What a person reads instead of an API field name.
const LABELS = { credit_limit_cents: "Credit limit", credit_limit: "Credit limit", max_wager_cents: "Largest bet",
  max_wager: "Largest bet", min_wager_cents: "Smallest bet", min_wager: "Smallest bet", amount_cents: "Amount",
  amount: "Amount", login: "Login", email: "Email", phone: "Phone", password: "Password", display_name: "Name",
  from: "From", to: "To", reference: "Reference", method: "Method", player: "Customer", player_id: "Customer",
  type: "Type", reason: "Reason", notes: "Notes", agent_id: "Agent", week: "Week", file: "File" };

/** An API or form error in plain words: labels instead of field names, no internal figures. */
function plainError(box, err) {
  const details = {};
  for (const [k, v] of Object.entries(err.details || {})) {
    if (Array.isArray(v) || typeof v === "string") details[LABELS[k] || k.replace(/_cents$/, "").replace(/_/g, " ")] = v;
  }
  showError(box, { message: err.message, details });
}

/** Click a column header to sort the table by it (again: reverse). Cells may carry a data-v sort value. */
function sortable(table) {
  table.classList.add("sortable");
  $$("thead th", table).forEach((th, col) => {
    if (!th.textContent.trim()) return;
    const label = th.textContent;
    const btn = h("button", { type: "button", class: "sort" }, label);
    th.replaceChildren(btn);
    btn.addEventListener("click", () => {
      const asc = th.getAttribute("aria-sort") !== "ascending";
      $$("thead th", table).forEach((o) => o.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      for (const body of table.tBodies) {
        const rows = $$(":scope > tr", body).filter((r) => r.cells.length > col && !r.classList.contains("fixed"));
        const key = (r) => { const c = r.cells[col]; const v = c.dataset.v ?? c.textContent.trim(); return v !== "" && !Number.isNaN(Number(v)) ? Number(v) : v.toLowerCase(); };
        rows.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
        body.append(...rows);
      }
    });
  });
}

/** Fill an owner filter <select> with the caller's agents (hidden when the caller has no sub-agent). */
async function ownerOptions(select) {
  if (!select) return;
  try {
    const d = await api("/api/v1/agent/agents");
    select.append(...d.agents.map((a) => h("option", { value: a.agent_id }, a.depth ? `${a.login} (sub-agent)` : `${a.login} (own book)`)));
    select.closest("label").hidden = d.agents.length < 2;
  } catch { select.closest("label").hidden = true; }
}

/** A bar chart of values by label as inline SVG with a labelled $ axis and first/middle/last day labels. */
export function barChart(points, label, yTitle = "Book win ($)", width = 640) {
  // Drawn at the size it is shown (320-640 px wide), so 12 px labels stay 12 px on a phone.
  const w = Math.round(Math.max(300, Math.min(640, width))), hgt = 220, left = 64, right = 8, top = 12, bottom = 40;
  const max = Math.max(1, ...points.map((p) => Math.abs(p.value)));
  const bw = (w - left - right) / Math.max(1, points.length);
  const plot = hgt - top - bottom;
  const y = (v) => top + plot / 2 - (v / max) * (plot / 2);
  const ns = "http://www.w3.org/2000/svg";
  const el = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svg = el("svg", { viewBox: `0 0 ${w} ${hgt}`, role: "img", "aria-label": label, class: "bar-chart" });
  for (const v of [max, max / 2, 0, -max / 2, -max]) {
    svg.append(el("line", { x1: left, x2: w - right, y1: y(v), y2: y(v), class: v === 0 ? "axis" : "grid" }));
    svg.append(el("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick" }, money(Math.round(v))));
  }
  svg.append(el("line", { x1: left, x2: left, y1: top, y2: top + plot, class: "axis" }));
  points.forEach((p, i) => {
    const bh = Math.max(1, (Math.abs(p.value) / max) * (plot / 2));
    const r = el("rect", { x: left + i * bw + 1, width: Math.max(1, bw - 2), y: p.value >= 0 ? y(0) - bh : y(0), height: bh,
      class: p.value >= 0 ? "up" : "down" });
    r.append(el("title", {}, `${p.label}: ${money(p.value)}`));
    svg.append(r);
  });
  const marks = points.length > 2 ? [0, Math.floor(points.length / 2), points.length - 1] : points.map((_, i) => i);
  for (const i of marks) {
    svg.append(el("text", { x: left + i * bw + bw / 2, y: top + plot + 16, "text-anchor": "middle", class: "tick" }, points[i].label.slice(5)));
  }
  svg.append(el("text", { x: (left + w) / 2, y: hgt - 4, "text-anchor": "middle", class: "axis-title" }, "Day (month-day)"));
  svg.append(el("text", { x: 12, y: top + plot / 2, "text-anchor": "middle", class: "axis-title", transform: `rotate(-90 12 ${top + plot / 2})` }, yTitle));
  return svg;
}

async function dashboard() {
  const box = $("#kpis");
  try {
    const [d, perf] = await Promise.all([api("/api/v1/agent/dashboard"), api("/api/v1/agent/reports/performance")]);
    const st = d.settlements;
    const kpis = [["Revenue this week", money(d.revenue.this_week_cents)], ["Revenue last week", money(d.revenue.last_week_cents)],
      ["Active players", `${d.players.active_7d} / ${d.players.total}`], ["Online now", d.players.online_now ?? "—"],
      ["Pending settlements", `${st.pending} · ${money(st.pending_cents)}`], ["Partly paid", `${st.partial} · ${money(st.partial_cents)}`],
      ["Overdue", `${st.overdue} · ${money(st.overdue_cents)}`], ["Open risk", money(d.exposure.open_risk_cents)]];
    box.replaceChildren(...kpis.map(([k, v]) => h("div", { class: "kpi" }, h("span", { class: "kpi-label" }, k), h("span", { class: "kpi-value" }, String(v)))));
    box.setAttribute("aria-busy", "false");
    $("#week-note").textContent = `Weeks close in ${d.week.timezone}; this week began ${new Date(d.week.start).toLocaleString("en-US", { timeZone: d.week.timezone, dateStyle: "medium", timeStyle: "short" })}.`;
    const chart = $("#chart");
    const points = perf.by_day.map((x) => ({ label: x.key, value: x.book_win_cents }));
    chart.replaceChildren(barChart(points, `Book win by day from ${perf.from} to ${perf.to}: total ${money(perf.totals.book_win_cents)}`, "Book win ($)", chart.clientWidth),
      h("figcaption", { class: "muted" }, `${perf.from} to ${perf.to}: book win ${money(perf.totals.book_win_cents)} on ${money(perf.totals.handle_cents)} handle`));
    chart.setAttribute("aria-busy", "false");
    const ex = d.exposure.by_event || [];
    const table = h("table", { class: "table", id: "exposure-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Event"), h("th", { scope: "col", class: "num" }, "Bets"), h("th", { scope: "col", class: "num" }, "Open risk"))),
      h("tbody", {}, ex.map((e) => h("tr", {}, cell(e.event), cell(e.bets, "num"), moneyCell(e.open_risk_cents, "num")))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "All open bets"), cell(ex.reduce((a, e) => a + e.bets, 0), "num"), cell(money(d.exposure.open_risk_cents), "num"))));
    $("#exposure").replaceChildren(ex.length ? h("div", { class: "table-wrap" }, table) : h("p", { class: "muted" }, "No open risk."));
    if (ex.length) sortable(table);
  } catch (err) { toast(err.message, "error"); }
}

async function agentsPage() {
  const table = $("#agents");
  try {
    const d = await api("/api/v1/agent/agents");
    const row = (a, label) => h("tr", {}, h("th", { scope: "row" }, label), cell(a.players, "num"), moneyCell(a.week_net_cents),
      moneyCell(a.open_risk_cents, "num"), cell(a.pending, "num"), cell(a.partial, "num"), cell(a.overdue, "num"), moneyCell(a.outstanding_cents, "num"));
    table.tBodies[0].replaceChildren(...d.agents.map((a) => row(a, a.depth ? `${a.login} · ${a.display_name || ""}` : `${a.login} (own book)`)));
    table.tFoot.replaceChildren(row(d.rollup, "Whole tree"));
    sortable(table);
  } catch (err) { toast(err.message, "error"); table.tBodies[0].replaceChildren(); }
  table.tBodies[0].setAttribute("aria-busy", "false");
}

let nextCursor = null;
const agentLogins = new Map();
async function loadAgents() {
  if (agentLogins.size) return;
  try { for (const a of (await api("/api/v1/agent/agents")).agents) agentLogins.set(a.agent_id, a.login); } catch { /* the column shows ids */ }
}

async function customers(more = false) {
  const f = $("#customer-filters");
  const params = new URLSearchParams({ limit: "50", sort: f.sort.value });
  if (f.q.value.trim()) params.set("q", f.q.value.trim());
  if (f.status.value) params.set("status", f.status.value);
  if (f.agent_id && f.agent_id.value) params.set("agent_id", f.agent_id.value);
  const box = $("#list-error");
  clearMsg(box);
  if (f.balance_below.value.trim()) {
    const c = parseMoney(f.balance_below.value.replace("-", ""));
    if (Number.isNaN(c)) { plainError(box, { message: "Balance below is an amount in dollars, e.g. -100 or 250.50" }); return; }
    params.set("balance_below", String(f.balance_below.value.trim().startsWith("-") ? -c : c));
  }
  if (more && nextCursor) params.set("cursor", nextCursor);
  const tbody = $("#customers tbody");
  try {
    await loadAgents();
    const d = await api(`/api/v1/agent/clients?${params}`);
    nextCursor = d.next_cursor;
    const rows = d.items.map((c) => h("tr", { "data-login": c.login },
      h("td", {}, h("a", { href: `/agent/customers/${c.id}` }, c.login)), cell(c.display_name),
      cell(agentLogins.get(c.agent_id) || String(c.agent_id)),
      moneyCell(c.balance_cents), moneyCell(c.credit_limit_cents, "num"), cell(c.status)));
    if (more) tbody.append(...rows); else tbody.replaceChildren(...rows);
    if (!tbody.children.length) tbody.append(h("tr", { class: "fixed" }, h("td", { colspan: 6 }, "No customers match.")));
    $("#more").hidden = !nextCursor;
  } catch (err) { plainError(box, err); tbody.replaceChildren(); }
  tbody.setAttribute("aria-busy", "false");
}

function optionalCents(v) {
  if (!String(v).trim()) return null;
  return parseMoney(v);
}

function importBox() {
  const form = $("#import-form");
  const box = $(".msg", form);
  const run = $("#import-run");
  let text = null;
  async function send(dryRun) {
    clearMsg(box);
    const file = form.file.files[0];
    if (!file) { plainError(box, { message: "Choose the CSV file of your customers first" }); return; }
    text = await file.text();
    try {
      const r = await api("/api/v1/agent/import", { method: "POST", body: { csv: text, dry_run: dryRun } });
      const table = $("#import-rows");
      table.hidden = false;
      table.tBodies[0].replaceChildren(...r.rows.map((row) => h("tr", { "data-line": row.line }, cell(row.line, "num"), cell(row.login),
        h("td", {}, row.problems.length ? h("ul", { class: "problems" }, row.problems.map((x) => h("li", {}, x))) : row.status,
          row.password ? h("p", {}, row.password, row.setup_link ? h("br") : null, row.setup_link ? h("a", { href: row.setup_link }, row.setup_link) : null) : null))));
      if (r.ok) showOk(box, r.message); else plainError(box, { message: r.message });
      run.disabled = !(r.ok && dryRun);
      if (!dryRun && r.ok) customers(false);
    } catch (err) { plainError(box, err); run.disabled = true; }
  }
  form.file.addEventListener("change", () => { run.disabled = true; clearMsg(box); });
  form.addEventListener("submit", (ev) => { ev.preventDefault(); send(true); });
  run.addEventListener("click", () => send(false));
}

function customersPage() {
  importBox();
  sortable($("#customers"));
  ownerOptions($("#customer-filters").agent_id);
  $("#customer-filters").addEventListener("submit", (ev) => { ev.preventDefault(); customers(false); });
  $("#more").addEventListener("click", () => customers(true));
  const form = $("#create-form");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", form);
    clearMsg(box);
    const body = { login: form.login.value.trim(), display_name: form.display_name.value.trim(),
      credit_limit_cents: parseMoney(form.credit_limit.value || "0") };
    if (form.password.value) body.password = form.password.value;
    if (form.email.value.trim()) body.email = form.email.value.trim();
    const max = optionalCents(form.max_wager.value);
    if (max !== null) body.max_wager_cents = max;
    for (const [k, v] of Object.entries(body)) if (Number.isNaN(v)) { plainError(box, { message: "Amounts are dollars, e.g. 500 or 12.50", details: { [k]: ["not an amount"] } }); return; }
    try {
      const c = await api("/api/v1/agent/clients", { method: "POST", body });
      showOk(box, `Customer ${c.login} created`);
      toast(`Customer ${c.login} created`);
      form.reset();
      customers(false);
    } catch (err) { plainError(box, err); }
  });
  customers(false);
}

async function customerPage() {
  const id = document.body.dataset.playerId;
  if (!/^\d{1,18}$/.test(id)) { $("#cust-title").textContent = "This customer is not in your book"; $("#cust-summary").hidden = true; return; }
  const form = $("#limits-form");
  let current;
  async function load() {
    try {
      current = await api(`/api/v1/agent/clients/${id}`);
    } catch (err) {
      $("#cust-title").textContent = err.status === 404 ? "This customer is not in your book" : err.message;
      $("#cust-body").hidden = true;
      $("#cust-summary").hidden = true;
      return;
    }
    $("#cust-body").hidden = false;
    const c = current;
    $("#cust-title").textContent = `${c.display_name || c.login} (${c.login})`;
    $("#cust-summary").replaceChildren(...[["Balance", money(c.balance_cents)], ["Available", money(c.available_cents)],
      ["Pending risk", money(c.pending_risk_cents)], ["This week", money(c.week ? c.week.figure_cents : 0)]]
      .map(([k, v]) => h("div", { class: "kpi" }, h("span", { class: "kpi-label" }, k), h("span", { class: "kpi-value" }, v))));
    $("#cust-summary").setAttribute("aria-busy", "false");
    form.credit_limit.value = (c.credit_limit_cents / 100).toFixed(2);
    form.max_wager.value = c.max_wager_cents == null ? "" : (c.max_wager_cents / 100).toFixed(2);
    form.min_wager.value = c.min_wager_cents == null ? "" : (c.min_wager_cents / 100).toFixed(2);
    form.notes.value = c.notes || "";
    $("#cust-status").textContent = c.status;
    $("#toggle-status").textContent = c.status === "active" ? "Deactivate" : "Reactivate";
    $("#toggle-status").className = c.status === "active" ? "danger" : "primary";
    $("#cashier-link").href = `/agent/cashier?player=${encodeURIComponent(c.login)}`;
    $("#cust-tx tbody").replaceChildren(...(c.recent_transactions || []).map((t) => h("tr", {}, cell(fmtDate(t.created_at), null, t.created_at), cell(KINDS[t.kind] || t.kind),
      moneyCell(t.amount_cents), moneyCell(t.balance_after, "num"), cell(t.memo || ""))));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", form);
    clearMsg(box);
    const body = { credit_limit_cents: parseMoney(form.credit_limit.value), max_wager_cents: optionalCents(form.max_wager.value),
      min_wager_cents: optionalCents(form.min_wager.value), notes: form.notes.value };
    const bad = Object.entries(body).filter(([, v]) => Number.isNaN(v));
    if (bad.length) { plainError(box, { message: "Amounts are dollars, e.g. 500 or 12.50", details: Object.fromEntries(bad.map(([k]) => [k, ["not an amount"]])) }); return; }
    try { await api(`/api/v1/agent/clients/${id}`, { method: "PATCH", body }); showOk(box, "Limits saved"); load(); } catch (err) { plainError(box, err); }
  });
  $("#toggle-status").addEventListener("click", async () => {
    const action = current.status === "active" ? "deactivate" : "reactivate";
    if (action === "deactivate" && !window.confirm(`Deactivate ${current.login}? They cannot log in or bet until reactivated.`)) return;
    try { await api(`/api/v1/agent/clients/${id}/${action}`, { method: "POST" }); toast(`${current.login} ${action}d`); load(); } catch (err) { toast(err.message, "error"); }
  });
  sortable($("#cust-tx"));
  load();
}

const KINDS = { deposit: "Deposit", withdrawal: "Withdrawal", adjustment: "Adjustment", free_play: "Free play", settlement: "Settlement",
  opening_balance: "Opening balance", bet_risk: "Bet placed", bet_release: "Bet released", bet_win: "Bet won", bet_loss: "Bet lost" };

async function cashierPage() {
  const form = $("#cashier-form");
  const players = new Map();
  let key = null;
  try {
    const d = await api("/api/v1/agent/clients?limit=200");
    for (const c of d.items) players.set(c.login, c);
    $("#players").replaceChildren(...d.items.map((c) => h("option", { value: c.login }, c.display_name)));
  } catch (err) { toast(err.message, "error"); }
  const pre = new URLSearchParams(location.search).get("player");
  if (pre) form.player.value = pre;
  let move = null;
  form.addEventListener("input", () => { key = null; $("#confirm").hidden = true; });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", form);
    clearMsg(box);
    let p = players.get(form.player.value.trim());
    if (!p && form.player.value.trim()) {
      try { const d = await api(`/api/v1/agent/clients?q=${encodeURIComponent(form.player.value.trim())}&limit=5`); p = d.items.find((c) => c.login === form.player.value.trim()); } catch { /* handled below */ }
    }
    const amount = parseMoney(form.amount.value);
    if (!p) { plainError(box, { message: "Pick a customer of your book", details: { player: ["no customer of your book has this login"] } }); form.player.focus(); return; }
    if (!(amount > 0)) { plainError(box, { message: "Enter an amount in dollars, e.g. 100 or 12.50", details: { amount: ["must be more than $0.00"] } }); form.amount.focus(); return; }
    if (!form.reason.value.trim()) { plainError(box, { message: "Say why (the ledger keeps it)", details: { reason: ["please fill this in"] } }); form.reason.focus(); return; }
    const direction = form.querySelector("input[name=direction]:checked").value;
    move = { direction, body: { player_id: p.id, amount_cents: amount, type: form.type.value, reason: form.reason.value.trim() }, login: p.login };
    key = key || idemKey();
    $("#confirm-text").textContent = `${direction === "credit" ? "Credit" : "Debit"} ${money(amount)} (${form.type.value.replace("_", " ")}) ${direction === "credit" ? "to" : "from"} ${p.login}?`;
    $("#confirm").hidden = false;
    $("#confirm-yes").focus();
  });
  $("#confirm-no").addEventListener("click", () => { $("#confirm").hidden = true; form.amount.focus(); });
  $("#confirm-yes").addEventListener("click", async () => {
    const box = $(".msg", form);
    $("#confirm-yes").disabled = true;
    try {
      const r = await api(`/api/v1/agent/cashier/${move.direction}`, { method: "POST", body: move.body, headers: { "Idempotency-Key": key } });
      $("#confirm").hidden = true;
      key = null;
      const bal = r.transaction?.balance_after ?? r.balance_cents;
      showOk(box, `${move.direction === "credit" ? "Credited" : "Debited"} ${money(move.body.amount_cents)} ${move.direction === "credit" ? "to" : "from"} ${move.login}${bal !== undefined ? `; balance ${money(bal)}` : ""}`);
      form.amount.value = ""; form.reason.value = "";
      recent();
    } catch (err) { $("#confirm").hidden = true; if (err.status !== 0) key = null; plainError(box, err); } finally { $("#confirm-yes").disabled = false; }
  });
  const filters = $("#tx-filters");
  async function recent() {
    const params = new URLSearchParams({ limit: "20" });
    if (filters.type.value) params.set("type", filters.type.value);
    if (filters.include_zero.checked) params.set("include_zero", "true");
    const tbody = $("#tx tbody");
    try {
      const d = await api(`/api/v1/agent/cashier/transactions?${params}`);
      tbody.replaceChildren(...d.items.map((t) => h("tr", {}, cell(fmtDate(t.created_at), null, t.created_at), cell(t.login), cell(KINDS[t.type] || t.type),
        moneyCell(t.amount_cents), moneyCell(t.balance_after, "num"))));
      if (!d.items.length) tbody.append(h("tr", { class: "fixed" }, h("td", { colspan: 5 }, "No transactions for this selection.")));
    } catch (err) { toast(err.message, "error"); }
    tbody.setAttribute("aria-busy", "false");
  }
  filters.addEventListener("change", recent);
  sortable($("#tx"));
  recent();
}

const STATES = { pending: "pending", partial: "partly paid", overdue: "overdue", settled: "settled" };

function settlementsPage() {
  const form = $("#week-form");
  const pay = $("#pay-form");
  const table = $("#settlements");
  let target = null, cursor = null, counts = {};
  ownerOptions(form.agent_id);
  function cycleBody(c) {
    const open = Object.entries(c.counts).filter(([k]) => k !== "settled").map(([k, v]) => `${v} ${STATES[k]}`).join(", ") || "all settled";
    const head = h("tr", { class: "cycle fixed" }, h("th", { scope: "rowgroup", colspan: 6 },
      `Week ${c.first_day} to ${c.last_day} · ${c.agent_login} · due ${fmtDate(c.due_at)} · ${open} · ${money(c.remaining_cents)} to settle`));
    return h("tbody", { "data-cycle": c.cycle_id }, head, c.items.map((s) => h("tr", { "data-settlement": s.id, "data-login": s.login }, cell(s.login),
      cell(s.display_name || "", "opt"), moneyCell(s.figure_cents), moneyCell(s.remaining_cents, "num"),
      cell(STATES[s.state] + (s.days_overdue ? ` (${s.days_overdue} days)` : ""), null, s.state),
      h("td", {}, s.remaining_cents > 0 ? h("button", { type: "button", "aria-label": `Record payment for ${s.login}`, onclick: (ev) => openPay(s, ev.target.closest("tr")) }, "Record payment") : "✓"))));
  }
  async function load(more = false) {
    const params = new URLSearchParams({ limit: "50" });
    if (form.week.value) params.set("week", form.week.value);
    if (form.status.value) params.set("status", form.status.value);
    if (form.agent_id.value) params.set("agent_id", form.agent_id.value);
    if (more && cursor) params.set("cursor", cursor);
    if (!more) { pay.hidden = true; table.closest(".table-wrap").after(pay); }
    try {
      const d = await api(`/api/v1/agent/settlements?${params}`);
      cursor = d.next_cursor;
      if (!more) { counts = {}; $$(":scope > tbody", table).forEach((b) => b.remove()); }
      for (const [k, v] of Object.entries(d.counts || {})) counts[k] = (counts[k] || 0) + v;
      $("#counts").textContent = Object.entries(counts).map(([k, v]) => `${v} ${STATES[k]}`).join(" · ") || "No settlements for this selection.";
      for (const c of d.cycles) {
        const last = table.tBodies[table.tBodies.length - 1];
        const body = cycleBody(c);
        if (last && last.dataset.cycle === String(c.cycle_id)) last.append(...$$("tr[data-settlement]", body)); else table.append(body);
      }
      $("#more-settlements").hidden = !cursor;
    } catch (err) { toast(err.message, "error"); }
    table.setAttribute("aria-busy", "false");
  }
  function openPay(s, row) {
    target = s;
    const holder = h("tr", { class: "pay-row fixed" }, h("td", { colspan: 6 }, pay));
    $$(".pay-row", table).forEach((r) => r.remove());
    row.after(holder);
    pay.hidden = false;
    clearMsg($(".msg", pay));
    $("#pay-title").textContent = `Record payment: ${s.login} (${s.direction === "book_pays" ? "the book pays" : "the player pays"} ${money(s.remaining_cents)})`;
    pay.amount.value = (s.remaining_cents / 100).toFixed(2);
    pay.amount.focus();
  }
  $("#pay-cancel").addEventListener("click", () => { pay.hidden = true; $$(".pay-row", table).forEach((r) => r.remove()); table.closest(".table-wrap").after(pay); });
  pay.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", pay);
    clearMsg(box);
    const amount = parseMoney(pay.amount.value);
    if (!(amount > 0)) { plainError(box, { message: "Enter an amount in dollars", details: { amount: ["must be more than $0.00"] } }); return; }
    try {
      await api(`/api/v1/agent/settlements/${target.id}/payments`, { method: "POST", body: { amount_cents: amount, method: pay.method.value, reference: pay.reference.value.trim() } });
      toast(`Payment of ${money(amount)} by ${pay.method.value.replace("_", " ")} recorded for ${target.login}`);
      pay.reset();
      load();
    } catch (err) { plainError(box, err); }
  });
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  form.addEventListener("change", () => load());
  $("#more-settlements").addEventListener("click", () => load(true));
  sortable(table);
  load();
}

function reportsPage() {
  const form = $("#report-form");
  const box = $(".msg");
  const t = $("#report");
  ownerOptions(form.agent_id);
  const params = (fmt) => {
    const p = new URLSearchParams({ format: fmt });
    if (form.from.value) p.set("from", form.from.value);
    if (form.to.value) p.set("to", form.to.value); // both days inclusive, in the agent's time zone
    if (form.agent_id.value) p.set("agent_id", form.agent_id.value);
    return p;
  };
  function clear() { t.tHead.replaceChildren(); t.tBodies[0].replaceChildren(); $("#range").textContent = ""; }
  async function show() {
    clearMsg(box);
    if (form.from.value && form.to.value && form.to.value < form.from.value) {
      clear();
      plainError(box, { message: "The end date is before the start date", details: { to: ["pick a date on or after the start date"] } });
      return;
    }
    try {
      const d = await api(`/api/v1/agent/reports/${form.kind.value}?${params("json")}`);
      form.from.value = d.from; form.to.value = d.to;
      $("#range").textContent = `${d.from} to ${d.to}, both days included; days start at ${d.day_starts_at} ${d.timezone}.`;
      if (form.kind.value === "performance") {
        t.tHead.replaceChildren(h("tr", {}, ["Group", "Key", "Bets", "Handle", "Book win", "Hold %"].map((x, i) => h("th", { scope: "col", class: i > 1 ? "num" : null }, x))));
        const names = { day: "Day", sport: "Sport", bet_type: "Bet type", total: "Total" };
        const lines = [...d.by_day, ...d.by_sport, ...d.by_bet_type, d.totals];
        t.tBodies[0].replaceChildren(...lines.map((l) => h("tr", {}, cell(names[l.dimension]), cell(l.key === "all" ? "All" : l.key), cell(l.bets, "num"), moneyCell(l.handle_cents, "num"),
          moneyCell(l.book_win_cents), cell(l.hold_pct == null ? "—" : `${l.hold_pct}%`, "num", l.hold_pct))));
      } else {
        t.tHead.replaceChildren(h("tr", {}, ["Login", "Agent", "Bets", "Stake", "Win/loss", "Net", "Deposits", "Last bet"].map((x, i) => h("th", { scope: "col", class: i > 1 && i < 7 ? "num" : null }, x))));
        t.tBodies[0].replaceChildren(...d.items.map((c) => h("tr", { "data-login": c.login }, cell(c.login), cell(c.agent_login), cell(c.bets, "num"), moneyCell(c.stake_cents, "num"),
          moneyCell(c.player_winloss_cents), moneyCell(c.net_cents), moneyCell(c.deposits_cents, "num"), cell(fmtDate(c.last_bet_at), null, c.last_bet_at || ""))));
      }
      sortable(t);
      t.tBodies[0].setAttribute("aria-busy", "false");
    } catch (err) { clear(); plainError(box, err); }
  }
  form.addEventListener("submit", (ev) => { ev.preventDefault(); show(); });
  $("#csv").addEventListener("click", async () => {
    clearMsg(box);
    try {
      const resp = await api(`/api/v1/agent/reports/${form.kind.value}?${params("csv")}`, { raw: true, headers: { Accept: "text/csv" } });
      const name = /filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "")?.[1] || `wagerbabe-${form.kind.value}.csv`;
      const url = URL.createObjectURL(await resp.blob());
      const a = h("a", { href: url, download: name });
      document.body.append(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      toast(`Downloaded ${name}`);
    } catch (err) { plainError(box, err); }
  });
  show();
}

if (requireLogin("agent")) {
  chrome("agent");
  ({ agent_dashboard: dashboard, agent_customers: customersPage, agent_customer: customerPage, agent_cashier: cashierPage,
    agent_settlements: settlementsPage, agent_reports: reportsPage, agent_agents: agentsPage })[page]?.();
}
