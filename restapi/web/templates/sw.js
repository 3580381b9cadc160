/* WagerBabe service worker {{ version }}: the shell and hashed assets from cache, pages and odds
   network-first with the last copy kept for offline use (the board marks it stale). */
const VERSION = {{ version|tojson }};
const SHELL = "wb-shell-" + VERSION;
const DATA = "wb-data";
const ASSETS = {{ assets|tojson }};
const PAGES = {{ shell|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll([...ASSETS, ...PAGES])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k.startsWith("wb-shell-") && k !== SHELL).map((k) => caches.delete(k))
  )).then(() => self.clients.claim()));
});

function cacheableApi(url) {
  return url.pathname.startsWith("/api/v1/betting/odds") || url.pathname.startsWith("/api/v1/betting/events/")
    || url.pathname === "/api/v1/shared/sidebar";
}

async function networkFirst(request, cacheName, markStale) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(request, { ignoreVary: true });
    if (!hit) throw err;
    if (!markStale) return hit;
    const headers = new Headers(hit.headers);
    headers.set("X-Offline-Copy", hit.headers.get("Date") || "1");
    return new Response(await hit.blob(), { status: hit.status, headers });
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  } else if (request.mode === "navigate") {
    // A page never visited has no copy: say "offline" in words rather than show another page.
    event.respondWith(networkFirst(request, SHELL, false).catch(() => caches.match("/offline")));
  } else if (cacheableApi(url)) {
    event.respondWith(networkFirst(request, DATA, true));
  }
});
