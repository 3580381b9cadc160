// Profile (name, email, phone) and preferences (odds format, default stake, price-change policy).
import { api, requireLogin, logout } from "./api.js";
import { $, chrome, parseMoney, showError, showOk, clearMsg, toast, storeNotifyPrefs } from "./ui.js";
import { initSlip } from "./slip.js";

let prefs = null;

async function main() {
  if (!requireLogin("player")) return;
  chrome("player");
  initSlip();
  $("#account-logout").addEventListener("click", logout);
  const pf = $("#profile-form");
  const rf = $("#prefs-form");
  try {
    const [profile, p] = await Promise.all([api("/api/v1/user/profile"), api("/api/v1/user/preferences")]);
    prefs = p;
    pf.display_name.value = profile.display_name || "";
    pf.email.value = profile.email || "";
    pf.phone.value = profile.phone || "";
    rf.querySelector(`input[name=odds_format][value=${p.odds_format}]`).checked = true;
    rf.default_stake.value = (p.default_stake_cents / 100).toFixed(2);
    rf.accept_price_changes.value = p.accept_price_changes;
  } catch (err) {
    toast(err.message, "error");
  }
  pf.setAttribute("aria-busy", "false");
  rf.setAttribute("aria-busy", "false");
  pf.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", pf);
    clearMsg(box);
    const body = { display_name: pf.display_name.value.trim(), phone: pf.phone.value.trim() || null };
    if (pf.email.value.trim()) body.email = pf.email.value.trim();
    try {
      await api("/api/v1/user/profile", { method: "PATCH", body });
      showOk(box, "Profile saved");
    } catch (err) { showError(box, err); }
  });
  rf.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", rf);
    clearMsg(box);
    const stake = parseMoney(rf.default_stake.value);
    if (Number.isNaN(stake)) {
      showError(box, { message: "Enter the default stake in dollars, e.g. 10 or 12.50", details: {} });
      rf.default_stake.focus();
      return;
    }
    const body = { ...prefs, odds_format: rf.querySelector("input[name=odds_format]:checked").value,
      default_stake_cents: stake, accept_price_changes: rf.accept_price_changes.value };
    try {
      prefs = await api("/api/v1/user/preferences", { method: "PUT", body });
      sessionStorage.setItem("wb.oddsFormat", prefs.odds_format);
      sessionStorage.setItem("wb.defaultStake", String(prefs.default_stake_cents));
      storeNotifyPrefs(prefs);
      showOk(box, "Preferences saved");
    } catch (err) { showError(box, err); }
  });
}

main();
