// Kill switches page (admin: the house; master agent: its tree): shows every switch and flips them.
import { api, requireLogin } from "./api.js";
import { $, h, chrome, fmtTime, showError, clearMsg, toast } from "./ui.js";

const form = $("#switch-form");
const msg = $("p.msg");

function syncTarget() {
  const feature = form.elements.scope.value === "feature";
  const global = form.elements.scope.value === "global";
  $("#target-feature").hidden = !feature;
  $("#target-text").hidden = feature || global;
  form.elements.target.required = !feature && !global;
  form.elements.target.placeholder = form.elements.scope.value === "market" ? "event id / h2h, spreads or totals" : "key, e.g. basketball_nba";
}

async function flip(scope, target, suspended, reason) {
  clearMsg(msg);
  try {
    const s = await api("/api/v1/switches", { method: "PUT", body: { scope, target, suspended, reason } });
    toast(`${s.label}: ${s.suspended ? "suspended" : "open again"}`);
    await load();
  } catch (err) { showError(msg, err); }
}

function row(s) {
  const state = s.suspended ? h("span", { class: "badge neg" }, "Suspended") : h("span", { class: "badge" }, "Open");
  const action = h("button", { type: "button", class: s.suspended ? "" : "danger", "data-id": String(s.id) },
    s.suspended ? "Release" : "Suspend again");
  action.addEventListener("click", () => {
    const reason = (form.elements.reason.value || "").trim();
    if (!reason) { form.elements.reason.focus(); showError(msg, new Error("Give a reason first (it goes to the audit log)")); return; }
    flip(s.scope, s.target, !s.suspended, reason);
  });
  return h("tr", { "data-scope": s.scope, "data-target": s.target, "data-suspended": String(s.suspended) },
    h("td", {}, s.label), h("td", {}, state), h("td", {}, s.reason), h("td", {}, fmtTime(s.changed_at)), h("td", {}, action));
}

async function load() {
  const body = $("#switches tbody");
  try {
    const d = await api("/api/v1/switches");
    $("#switch-owner").textContent = d.owner_id === null
      ? "House switches: they cover every book." : "Your switches cover your book and your sub-agents' books.";
    const list = [...d.switches].sort((a, b) => Number(b.suspended) - Number(a.suspended));
    body.replaceChildren(...(list.length ? list.map(row) : [h("tr", {}, h("td", { colspan: "5", class: "muted" }, "No switches yet."))]));
    body.setAttribute("aria-busy", "false");
    const audit = $("#switch-audit");
    audit.replaceChildren(...d.audit.map((a) => h("li", {},
      `${fmtTime(a.at)} · ${a.label} ${a.suspended ? "suspended" : "released"} by #${a.actor_id}: ${a.reason}`)));
    audit.setAttribute("aria-busy", "false");
  } catch (err) { showError(msg, err); body.setAttribute("aria-busy", "false"); }
}

function main() {
  if (!requireLogin("agent")) return;
  chrome("agent");
  form.elements.scope.addEventListener("change", syncTarget);
  syncTarget();
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const scope = form.elements.scope.value;
    const target = scope === "feature" ? form.elements.feature.value : scope === "global" ? "" : form.elements.target.value.trim();
    flip(scope, target, true, form.elements.reason.value.trim());
  });
  load();
}

main();
