// Agent back office: dashboard, customers, customer detail, cashier, settlements, reports.
import { api, requireLogin, idemKey } from "./api.js";
import { $, $$, h, chrome, money, parseMoney, fmtDate, showError, showOk, clearMsg, toast } from "./ui.js";

const page = document.body.dataset.page;
const cls = (cents) => (cents < 0 ? "num neg" : "num");
const cell = (text, c) => h("td", c ? { class: c } : {}, text);

/** A bar chart of values by label as inline SVG (no library: ~30 bars at most). */
export function barChart(points, label) {
  const w = 600, hgt = 160, pad = 4;
  const max = Math.max(1, ...points.map((p) => Math.abs(p.value)));
  const bw = (w - pad * 2) / Math.max(1, points.length);
  const mid = hgt / 2;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const axis = document.createElementNS(ns, "line");
  Object.entries({ x1: 0, x2: w, y1: mid, y2: mid, stroke: "#c9d6e3", "stroke-width": 1 }).forEach(([k, v]) => axis.setAttribute(k, v));
  svg.append(axis);
  points.forEach((p, i) => {
    const r = document.createElementNS(ns, "rect");
    const bh = (Math.abs(p.value) / max) * (mid - pad);
    r.setAttribute("x", String(pad + i * bw + 1));
    r.setAttribute("width", String(Math.max(1, bw - 2)));
    r.setAttribute("y", String(p.value >= 0 ? mid - bh : mid));
    r.setAttribute("height", String(Math.max(1, bh)));
    r.setAttribute("fill", p.value >= 0 ? "#3ddc84" : "#ff8a8a");
    const t = document.createElementNS(ns, "title");
    t.textContent = `${p.label}: ${money(p.value)}`;
    r.append(t);
    svg.append(r);
  });
  return svg;
}

async function dashboard() {
  const box = $("#kpis");
  try {
    const [d, perf] = await Promise.all([api("/api/v1/agent/dashboard"), api("/api/v1/agent/reports/performance")]);
    const kpis = [["Revenue this week", money(d.revenue.this_week_cents)], ["Revenue last week", money(d.revenue.last_week_cents)],
      ["Active players", `${d.players.active_7d} / ${d.players.total}`], ["Online now", d.players.online_now ?? "—"],
      ["Pending settlements", `${d.settlements.pending} · ${money(d.settlements.pending_cents)}`], ["Open risk", money(d.exposure.open_risk_cents)]];
    box.replaceChildren(...kpis.map(([k, v]) => h("div", { class: "kpi" }, h("span", { class: "kpi-label" }, k), h("span", { class: "kpi-value" }, String(v)))));
    box.setAttribute("aria-busy", "false");
    const chart = $("#chart");
    const points = perf.by_day.map((x) => ({ label: x.key, value: x.book_win_cents }));
    chart.replaceChildren(barChart(points, `Book win by day from ${fmtDate(perf.from)}: total ${money(perf.totals.book_win_cents)}`),
      h("figcaption", { class: "muted" }, `Total ${money(perf.totals.book_win_cents)} on ${money(perf.totals.handle_cents)} handle`));
    chart.setAttribute("aria-busy", "false");
    const ex = d.exposure.by_event || [];
    $("#exposure").replaceChildren(ex.length ? h("table", { class: "table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Event"), h("th", { scope: "col", class: "num" }, "Bets"), h("th", { scope: "col", class: "num" }, "Open risk"))),
      h("tbody", {}, ex.map((e) => h("tr", {}, cell(e.event), cell(e.bets, "num"), cell(money(e.open_risk_cents), "num"))))) : h("p", { class: "muted" }, "No open risk."));
  } catch (err) { toast(err.message, "error"); }
}

let nextCursor = null;
async function customers(more = false) {
  const f = $("#customer-filters");
  const params = new URLSearchParams({ limit: "50", sort: f.sort.value });
  if (f.q.value.trim()) params.set("q", f.q.value.trim());
  if (f.status.value) params.set("status", f.status.value);
  if (f.balance_below.value.trim()) {
    const c = parseMoney(f.balance_below.value.replace("-", ""));
    params.set("balance_below", String(f.balance_below.value.trim().startsWith("-") ? -c : c));
  }
  if (more && nextCursor) params.set("cursor", nextCursor);
  const tbody = $("#customers tbody");
  const box = $("#list-error");
  clearMsg(box);
  try {
    const d = await api(`/api/v1/agent/clients?${params}`);
    nextCursor = d.next_cursor;
    const rows = d.items.map((c) => h("tr", { "data-login": c.login },
      h("td", {}, h("a", { href: `/agent/customers/${c.id}` }, c.login)), cell(c.display_name),
      cell(money(c.balance_cents), cls(c.balance_cents)), cell(money(c.credit_limit_cents), "num"), cell(c.status)));
    if (more) tbody.append(...rows); else tbody.replaceChildren(...rows);
    if (!tbody.children.length) tbody.append(h("tr", {}, h("td", { colspan: 5 }, "No customers match.")));
    $("#more").hidden = !nextCursor;
  } catch (err) { showError(box, err); tbody.replaceChildren(); }
  tbody.setAttribute("aria-busy", "false");
}

function optionalCents(v) {
  if (!String(v).trim()) return null;
  return parseMoney(v);
}

function customersPage() {
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
    for (const [k, v] of Object.entries(body)) if (Number.isNaN(v)) { showError(box, { message: "Amounts are dollars, e.g. 500 or 12.50", details: { [k]: ["not an amount"] } }); return; }
    try {
      const c = await api("/api/v1/agent/clients", { method: "POST", body });
      showOk(box, `Customer ${c.login} created`);
      toast(`Customer ${c.login} created`);
      form.reset();
      customers(false);
    } catch (err) { showError(box, err); }
  });
  customers(false);
}

async function customerPage() {
  const id = document.body.dataset.playerId;
  if (!/^\d{1,18}$/.test(id)) { $("#cust-title").textContent = "No such customer"; return; }
  const form = $("#limits-form");
  let current;
  async function load() {
    try {
      current = await api(`/api/v1/agent/clients/${id}`);
    } catch (err) { $("#cust-title").textContent = err.message; toast(err.message, "error"); return; }
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
    $("#cust-tx tbody").replaceChildren(...(c.recent_transactions || []).map((t) => h("tr", {}, cell(fmtDate(t.created_at)), cell(t.kind),
      cell(money(t.amount_cents), cls(t.amount_cents)), cell(money(t.balance_after), "num"), cell(t.memo || ""))));
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", form);
    clearMsg(box);
    const body = { credit_limit_cents: parseMoney(form.credit_limit.value), max_wager_cents: optionalCents(form.max_wager.value),
      min_wager_cents: optionalCents(form.min_wager.value), notes: form.notes.value };
    const bad = Object.entries(body).filter(([, v]) => Number.isNaN(v));
    if (bad.length) { showError(box, { message: "Amounts are dollars, e.g. 500 or 12.50", details: Object.fromEntries(bad.map(([k]) => [k, ["not an amount"]])) }); return; }
    try { await api(`/api/v1/agent/clients/${id}`, { method: "PATCH", body }); showOk(box, "Limits saved"); load(); } catch (err) { showError(box, err); }
  });
  $("#toggle-status").addEventListener("click", async () => {
    const action = current.status === "active" ? "deactivate" : "reactivate";
    if (action === "deactivate" && !window.confirm(`Deactivate ${current.login}? They cannot log in or bet until reactivated.`)) return;
    try { await api(`/api/v1/agent/clients/${id}/${action}`, { method: "POST" }); toast(`${current.login} ${action}d`); load(); } catch (err) { toast(err.message, "error"); }
  });
  load();
}

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
    if (!p) { showError(box, { message: "Pick a customer of your book", details: { player: ["unknown login"] } }); form.player.focus(); return; }
    if (!(amount > 0)) { showError(box, { message: "Enter an amount in dollars, e.g. 100 or 12.50", details: { amount: ["must be a positive amount"] } }); form.amount.focus(); return; }
    if (!form.reason.value.trim()) { showError(box, { message: "Say why (the ledger keeps it)", details: { reason: ["required"] } }); form.reason.focus(); return; }
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
    } catch (err) { $("#confirm").hidden = true; if (err.status !== 0) key = null; showError(box, err); } finally { $("#confirm-yes").disabled = false; }
  });
  async function recent() {
    try {
      const d = await api("/api/v1/agent/cashier/transactions?limit=20");
      $("#tx tbody").replaceChildren(...d.items.map((t) => h("tr", {}, cell(fmtDate(t.created_at)), cell(t.login), cell(t.type),
        cell(money(t.amount_cents), cls(t.amount_cents)), cell(money(t.balance_after), "num"))));
    } catch (err) { toast(err.message, "error"); }
  }
  recent();
}

function settlementsPage() {
  const form = $("#week-form");
  const pay = $("#pay-form");
  let target = null;
  async function load() {
    const params = new URLSearchParams();
    if (form.week.value) params.set("week", form.week.value);
    if (form.status.value) params.set("status", form.status.value);
    const tbody = $("#settlements tbody");
    try {
      const d = await api(`/api/v1/agent/settlements?${params}`);
      $("#counts").textContent = Object.entries(d.counts || {}).map(([k, v]) => `${v} ${k}`).join(" · ");
      tbody.replaceChildren(...d.items.map((s) => h("tr", { "data-settlement": s.id, "data-login": s.login }, cell(s.login),
        cell(fmtDate(s.week_end)), cell(money(s.figure_cents), cls(s.figure_cents)),
        cell(money(s.remaining_cents), "num"), cell(s.state + (s.days_overdue ? ` (${s.days_overdue}d)` : "")),
        h("td", {}, s.remaining_cents > 0 ? h("button", { type: "button", "aria-label": `Record payment for ${s.login}`, onclick: () => openPay(s) }, "Record payment") : "✓"))));
      if (!d.items.length) tbody.append(h("tr", {}, h("td", { colspan: 6 }, "No settlements for this selection.")));
    } catch (err) { toast(err.message, "error"); tbody.replaceChildren(); }
    tbody.setAttribute("aria-busy", "false");
  }
  function openPay(s) {
    target = s;
    pay.hidden = false;
    clearMsg($(".msg", pay));
    $("#pay-title").textContent = `Record payment: ${s.login} (${s.direction === "book_pays" ? "book pays" : "player pays"} ${money(s.remaining_cents)})`;
    pay.amount.value = (s.remaining_cents / 100).toFixed(2);
    pay.amount.focus();
  }
  $("#pay-cancel").addEventListener("click", () => { pay.hidden = true; });
  pay.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", pay);
    clearMsg(box);
    const amount = parseMoney(pay.amount.value);
    if (!(amount > 0)) { showError(box, { message: "Enter an amount in dollars", details: { amount: ["must be positive"] } }); return; }
    try {
      await api(`/api/v1/agent/settlements/${target.id}/payments`, { method: "POST", body: { amount_cents: amount, method: pay.method.value, reference: pay.reference.value.trim() } });
      pay.hidden = true;
      toast(`Payment of ${money(amount)} by ${pay.method.value.replace("_", " ")} recorded for ${target.login}`);
      pay.reset();
      load();
    } catch (err) { showError(box, err); }
  });
  form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  load();
}

function reportsPage() {
  const form = $("#report-form");
  const today = new Date();
  const from = new Date(today.getTime() - 29 * 86400_000);
  form.from.value = from.toISOString().slice(0, 10);
  form.to.value = today.toISOString().slice(0, 10);
  const box = $(".msg");
  const params = (fmt) => {
    const to = new Date(Date.parse(form.to.value) + 86400_000).toISOString().slice(0, 10); // inclusive end day
    return new URLSearchParams({ from: form.from.value, to, format: fmt });
  };
  async function show() {
    clearMsg(box);
    const t = $("#report");
    try {
      const d = await api(`/api/v1/agent/reports/${form.kind.value}?${params("json")}`);
      if (form.kind.value === "performance") {
        t.tHead.replaceChildren(h("tr", {}, ["Group", "Key", "Bets", "Handle", "Book win", "Hold %"].map((x, i) => h("th", { scope: "col", class: i > 1 ? "num" : null }, x))));
        const lines = [...d.by_day, ...d.by_sport, ...d.by_bet_type, d.totals];
        t.tBodies[0].replaceChildren(...lines.map((l) => h("tr", {}, cell(l.dimension), cell(l.key), cell(l.bets, "num"), cell(money(l.handle_cents), "num"),
          cell(money(l.book_win_cents), cls(l.book_win_cents)), cell(l.hold_pct == null ? "—" : `${l.hold_pct}%`, "num"))));
      } else {
        t.tHead.replaceChildren(h("tr", {}, ["Login", "Bets", "Stake", "Win/loss", "Deposits", "Last bet"].map((x, i) => h("th", { scope: "col", class: i && i < 5 ? "num" : null }, x))));
        t.tBodies[0].replaceChildren(...d.items.map((c) => h("tr", {}, cell(c.login), cell(c.bets, "num"), cell(money(c.stake_cents), "num"),
          cell(money(c.player_winloss_cents), cls(c.player_winloss_cents)), cell(money(c.deposits_cents), "num"), cell(fmtDate(c.last_bet_at)))));
      }
      t.tBodies[0].setAttribute("aria-busy", "false");
    } catch (err) { showError(box, err); }
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
    } catch (err) { showError(box, err); }
  });
  show();
}

if (requireLogin("agent")) {
  chrome("agent");
  ({ agent_dashboard: dashboard, agent_customers: customersPage, agent_customer: customerPage, agent_cashier: cashierPage,
    agent_settlements: settlementsPage, agent_reports: reportsPage })[page]?.();
}
