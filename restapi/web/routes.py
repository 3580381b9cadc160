"""Page handlers of the mobile web app: server-rendered shells, hashed static assets, service worker.

The pages hold no personal data: each is a small HTML shell whose JS module calls the JSON API with
the access token kept in memory (refreshed through an httpOnly cookie), so every page can be cached
by the service worker and served the same to every visitor. The role a page needs is checked by the API, not here.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
import orjson
from aiohttp import web

from restapi.keys import SETTINGS
from restapi.web import assets
from shared.errors import NotFound

HERE = Path(__file__).resolve().parent
BUNDLE: web.AppKey[assets.Bundle] = web.AppKey("web_bundle", assets.Bundle)
IMMUTABLE = "public, max-age=31536000, immutable"
# Pages are tiny and change with every deploy: revalidate each time (ETag makes that a 304).
PAGE_CACHE = "no-cache"
OFFLINE = "/offline"  # what the service worker shows for a page it never saw, when there is no network
THEME = "#0b1f33"  # the manifest's and <meta name="theme-color">'s colour


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its path, template, title, JS module and which navigation it shows."""

    path: str
    template: str
    title: str
    module: str
    area: str  # "public", "player" or "agent"
    description: str = "WagerBabe: live odds, betting slip and the agent back office on your phone."


PAGES: tuple[Page, ...] = (
    Page("/login", "login.html", "Log in", "login.js", "public", "Log in to WagerBabe to bet on live odds."),
    Page("/reset-password", "reset.html", "Reset password", "login.js", "public"),
    Page("/sports", "sports.html", "Sports", "sports.js", "player"),
    Page("/live", "live.html", "Live now", "board.js", "player", "Games in play now, with live odds."),
    Page("/league/{league}", "board.html", "Odds", "board.js", "player"),
    Page("/event/{event_id}", "event.html", "Event", "board.js", "player"),
    Page("/history", "history.html", "Bet history", "history.js", "player"),
    Page("/offline", "offline.html", "Offline", "offline.js", "public", "WagerBabe needs a connection for this page."),
    Page("/profile", "profile.html", "Account", "profile.js", "player"),
    Page("/agent", "agent_dashboard.html", "Dashboard", "agent.js", "agent"),
    Page("/agent/customers", "agent_customers.html", "Customers", "agent.js", "agent"),
    Page("/agent/customers/{player_id}", "agent_customer.html", "Customer", "agent.js", "agent"),
    Page("/agent/cashier", "agent_cashier.html", "Cashier", "agent.js", "agent"),
    Page("/agent/settlements", "agent_settlements.html", "Settlements", "agent.js", "agent"),
    Page("/agent/reports", "agent_reports.html", "Reports", "agent.js", "agent"),
    Page("/agent/agents", "agent_agents.html", "Sub-agents", "agent.js", "agent"),
    Page("/agent/switches", "agent_switches.html", "Kill switches", "switches.js", "agent"),
)


def _html(request: web.Request, text: str, content_type: str = "text/html") -> web.Response:
    """A text response, gzipped when the client accepts it, revalidated on every use."""
    body = text.encode()
    resp = web.Response(body=body, content_type=content_type, charset="utf-8")
    resp.headers["Cache-Control"] = PAGE_CACHE
    resp.headers["Vary"] = "Accept-Encoding"
    if "gzip" in request.headers.get("Accept-Encoding", "") and len(body) >= assets.MIN_GZIP:
        resp.body = gzip.compress(body, compresslevel=6, mtime=0)
        resp.headers["Content-Encoding"] = "gzip"
    return resp


def page_handler(page: Page) -> Any:
    """The handler that renders ``page`` with the bundle's URLs and the push URL."""

    async def handler(request: web.Request) -> web.Response:
        context = {"page": page, "params": dict(request.match_info), "push_url": request.app[SETTINGS].push_url}
        text = aiohttp_jinja2.render_string(page.template, request, context)
        return _html(request, text)

    handler.__name__ = f"page_{page.template.removesuffix('.html')}"
    return handler


async def index(request: web.Request) -> web.Response:
    """``/``: the sports list (the page redirects to login when there is no session)."""
    raise web.HTTPFound("/sports")


async def static(request: web.Request) -> web.StreamResponse:
    """A hashed asset: year-long immutable caching, gzip when accepted, 304 on a matching ETag."""
    asset = request.app[BUNDLE].files.get(request.match_info["name"])
    if asset is None:
        raise NotFound("No such asset (names carry a content hash)", code="asset_not_found")
    headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag, "Vary": "Accept-Encoding",
               "Content-Type": asset.content_type}
    if request.headers.get("If-None-Match") == asset.etag:
        return web.Response(status=304, headers=headers)
    body = asset.body
    if asset.gz is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = asset.gz
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers=headers)


async def favicon(request: web.Request) -> web.Response:
    """``/favicon.ico`` for browsers that ask for it: the SVG icon, cached for a day."""
    asset = request.app[BUNDLE].files[request.app[BUNDLE].url("favicon.svg").rpartition("/")[2]]
    return web.Response(body=asset.body, headers={"Content-Type": asset.content_type,
                                                  "Cache-Control": "public, max-age=86400"})


async def service_worker(request: web.Request) -> web.Response:
    """``/sw.js`` at the root so its scope is the whole site; never cached long (it must update)."""
    bundle = request.app[BUNDLE]
    context = {"version": bundle.version(), "assets": sorted(bundle.urls.values()),
               "shell": ["/sports", "/live", "/login", "/history", "/profile", OFFLINE]}
    text = aiohttp_jinja2.render_string("sw.js", request, context)
    resp = _html(request, text, "text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


async def manifest(request: web.Request) -> web.Response:
    """``/manifest.webmanifest``: name, icons and theme colour, so a phone can install the app."""
    bundle = request.app[BUNDLE]
    icons = [{"src": bundle.url(name), "sizes": size, "type": "image/png", "purpose": purpose}
             for name, size, purpose in (("icon-192.png", "192x192", "any"), ("icon-512.png", "512x512", "any"),
                                         ("icon-maskable-512.png", "512x512", "maskable"))]
    doc = {"name": "WagerBabe", "short_name": "WagerBabe", "description": "Live odds and your bet slip.",
           "id": "/sports", "start_url": "/sports", "scope": "/", "display": "standalone",
           "background_color": THEME, "theme_color": THEME, "icons": icons}
    return web.Response(body=orjson.dumps(doc), content_type="application/manifest+json",
                        headers={"Cache-Control": "public, max-age=3600"})


async def robots(request: web.Request) -> web.Response:
    """``/robots.txt``: pages are public shells (data needs a login); keep crawlers off the API."""
    return web.Response(text="User-agent: *\nDisallow: /api/\n", content_type="text/plain",
                        headers={"Cache-Control": "public, max-age=86400"})


async def bundle_ctx(app: web.Application) -> AsyncIterator[None]:
    """Read and hash the static folder once at start-up (the factory itself does no I/O)."""
    app[BUNDLE] = assets.load(HERE / "static")
    yield


def setup(app: web.Application) -> None:
    """Register the pages, the static assets, /sw.js, /favicon.ico and the template environment."""
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"),
                               autoescape=jinja2.select_autoescape(("html", "js")),
                               trim_blocks=True, lstrip_blocks=True)

    def asset(name: str) -> str:
        return app[BUNDLE].url(name)

    def preload(module: str) -> list[str]:
        return [app[BUNDLE].url(dep) for dep in app[BUNDLE].graph(module)]

    env.globals["asset"] = asset
    env.globals["preload"] = preload
    app.cleanup_ctx.append(bundle_ctx)
    r = app.router
    r.add_get("/", index)
    for page in PAGES:
        r.add_get(page.path, page_handler(page))
    r.add_get("/static/{name}", static)
    r.add_get("/favicon.ico", favicon)
    r.add_get("/sw.js", service_worker)
    r.add_get("/robots.txt", robots)
    r.add_get("/manifest.webmanifest", manifest)
