// Login and password-reset pages.
import { api, saveLogin, user, hasSession, ApiError } from "./api.js";
import { $, showError, showOk, clearMsg, chrome, storeNotifyPrefs } from "./ui.js";
import { sitePath } from "./redirect.js";

function home(who) { return who.role === "player" ? "/sports" : "/agent"; }

function safeNext(who) {
  const next = sitePath(new URLSearchParams(location.search).get("next"));
  const agentSide = who.role !== "player";
  if (next !== null && next.startsWith("/agent") === agentSide) return next;
  return home(who);
}

async function prefsToSession() {
  try {
    const p = await api("/api/v1/user/preferences");
    sessionStorage.setItem("wb.oddsFormat", p.odds_format);
    sessionStorage.setItem("wb.defaultStake", String(p.default_stake_cents));
    storeNotifyPrefs(p);
  } catch { /* defaults apply */ }
}

function loginPage() {
  if (hasSession() && user()) { location.replace(home(user())); return; }
  const form = $("#login-form");
  const box = $(".msg", form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearMsg(box);
    const login = form.login.value.trim();
    const password = form.password.value;
    if (!login || !password) {
      showError(box, new ApiError(422, { message: "Enter your login and password." }));
      (login ? form.password : form.login).focus();
      return;
    }
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      const body = await api("/api/v1/auth/login", { method: "POST", auth: false,
        body: { login, password, device: navigator.userAgent.slice(0, 90), cookie: true } });
      saveLogin(body);
      if (body.user.role === "player") await prefsToSession();
      location.assign(safeNext(body.user));
    } catch (err) {
      showError(box, err);
      form.password.focus();
    } finally {
      button.disabled = false;
    }
  });
}

function resetPage() {
  const token = new URLSearchParams(location.search).get("token");
  const ask = $("#reset-request");
  const confirm = $("#reset-confirm");
  if (token) { ask.hidden = true; confirm.hidden = false; }
  ask.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", ask);
    clearMsg(box);
    try {
      const r = await api("/api/v1/auth/password-reset/request", { method: "POST", auth: false,
        body: { email: ask.email.value.trim() } });
      showOk(box, r.message);
    } catch (err) { showError(box, err); }
  });
  confirm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = $(".msg", confirm);
    clearMsg(box);
    try {
      const r = await api("/api/v1/auth/password-reset/confirm", { method: "POST", auth: false,
        body: { token, password: confirm.password.value } });
      showOk(box, r.message);
    } catch (err) { showError(box, err); }
  });
}

chrome("public");
if (document.body.dataset.page === "login") loginPage(); else resetPage();
