// The JSON API client: access token in memory only, refresh token in an httpOnly cookie (never
// readable here), silent refresh through the cookie, errors as ApiError. Only the non-secret user
// profile is kept in sessionStorage, so a reload knows who is logged in and refreshes.
const USER = "wb.user";
const store = window.sessionStorage;
let access = null;
let accessExp = 0;
["wb.access", "wb.refresh", "wb.exp"].forEach((k) => store.removeItem(k)); // tokens an older version stored

/** An API failure in the {error, message, details} shape (status 0: the network failed). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `Request failed (${status})`);
    this.status = status;
    this.code = (body && body.error) || "error";
    this.details = (body && body.details) || {};
  }
}

export function user() {
  try { return JSON.parse(store.getItem(USER) || "null"); } catch { return null; }
}

export function hasSession() { return !!user(); }

function saveTokens(body) {
  access = body.access_token;
  accessExp = Date.now() + body.expires_in * 1000;
}

export function saveLogin(body) {
  saveTokens(body);
  store.setItem(USER, JSON.stringify(body.user));
}

export function clearSession() { access = null; accessExp = 0; store.removeItem(USER); }

let refreshing = null;
/** Spend the refresh token once for every caller waiting on it (single flight). */
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      if (!hasSession()) throw new ApiError(401, { error: "unauthorized", message: "Please log in again." });
      const resp = await fetch("/api/v1/auth/refresh", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}", credentials: "same-origin",
      });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) {
        if (resp.status === 401 || resp.status === 403) clearSession(); // the session is over, not the network
        throw new ApiError(resp.status, body);
      }
      saveTokens(body);
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** Call the API; JSON in and out. opts: method, body, headers, auth (default true), raw (return the Response). */
export async function api(path, opts = {}) {
  const auth = opts.auth !== false;
  if (auth && hasSession() && accessExp - Date.now() < 60_000) await refresh().catch(() => {});
  const headers = { Accept: "application/json", ...(opts.headers || {}) };
  let body;
  if (opts.body !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(opts.body); }
  if (auth && access) headers.Authorization = `Bearer ${access}`;
  let resp;
  try {
    resp = await fetch(path, { method: opts.method || "GET", headers, body, keepalive: !!opts.keepalive });
  } catch {
    throw new ApiError(0, { error: "network", message: "No connection. Check your network and try again." });
  }
  if (resp.status === 401 && auth && !opts.retried && hasSession()) {
    try { await refresh(); } catch { toLogin(); throw new ApiError(401, { message: "Your session ended. Please log in." }); }
    return api(path, { ...opts, retried: true });
  }
  if (resp.status === 401 && auth) { toLogin(); }
  if (opts.raw && resp.ok) return resp;
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({ error: "bad_response", message: `Unexpected answer (${resp.status})` }));
  if (!resp.ok) throw new ApiError(resp.status, data);
  if (opts.withResponse) return { data, response: resp };
  return data;
}

/** A current access token (refreshed first when it is about to expire). */
export async function accessToken() {
  if (hasSession() && accessExp - Date.now() < 60_000) await refresh().catch(() => {});
  return access;
}

// Set while logging out: requests of the page still in flight then answer 401 (their session was just
// revoked) and must not send the player to log in again with a "next" back to where they left.
let loggingOut = false;

export function toLogin() {
  if (loggingOut) return;
  const next = location.pathname + location.search;
  clearSession();
  if (location.pathname !== "/login") location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/** Send visitors without a session to the login page, and each role to its own area. */
export function requireLogin(area) {
  const who = user();
  if (!hasSession() || !who) { toLogin(); return null; }
  const agentSide = who.role === "agent" || who.role === "admin";
  if (area === "agent" && !agentSide) { location.replace("/sports"); return null; }
  if (area === "player" && agentSide) { location.replace("/agent"); return null; }
  return who;
}

export async function logout() {
  loggingOut = true;
  try { await api("/api/v1/auth/logout", { method: "POST" }); } catch { /* the session ends here anyway */ }
  clearSession();
  localStorage.removeItem("wb.slip"); // the picks are this player's: not for whoever uses the phone next
  location.assign("/login");
}

/** A fresh idempotency key for one user action (retries of that action reuse it). */
export function idemKey() {
  return (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);
}
