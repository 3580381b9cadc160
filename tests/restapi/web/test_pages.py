"""The page handlers over plain HTTP: status, caching headers, hashed assets, gzip, service worker."""

from __future__ import annotations

import gzip
import re

import pytest
from aiohttp.test_utils import TestClient

from restapi.app import create_app
from restapi.config import RestSettings
from restapi.web.routes import PAGES
from shared.config import load

PUSH = "ws://push.example.test:9/ws"
PLAIN = {"Accept-Encoding": "identity"}


@pytest.fixture
async def client(aiohttp_client, base_env: dict[str, str]) -> TestClient:  # type: ignore[no-untyped-def]
    settings = load(RestSettings, {**base_env, "RESTAPI_PUSH_URL": PUSH}, port=0)
    return await aiohttp_client(create_app(settings), auto_decompress=False)


def _path(template: str) -> str:
    return template.replace("{league}", "basketball_nba").replace("{event_id}", "e123").replace("{player_id}", "4")


@pytest.mark.parametrize("page", PAGES, ids=[p.path for p in PAGES])
async def test_every_page_is_small_gzipped_html_revalidated_each_time(client: TestClient, page) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get(_path(page.path), headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["Content-Encoding"] == "gzip"
    raw = await resp.read()
    html = gzip.decompress(raw).decode()
    assert len(raw) < 14_000  # fits the first round trips on a slow link
    assert f"<title>{page.title} · WagerBabe</title>" in html and '<html lang="en">' in html
    assert f'data-push-url="{PUSH}"' in html
    # Every asset the page references carries a content hash in its name.
    refs = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert refs and all(re.fullmatch(r"/static/[a-z0-9_-]+\.[0-9a-f]{10}\.(js|css|svg|png)", r) for r in refs), refs
    # Every module the page's script imports, directly or not, is preloaded: no chain of round trips.
    preloaded = {r.rsplit("/", 1)[1].split(".")[0] for r in re.findall(r'rel="modulepreload" href="([^"]+)"', html)}
    assert {"api", "ui"} <= preloaded
    if page.module == "board.js":
        assert {"live", "slip", "suspend", "nav"} <= preloaded


async def test_page_without_gzip_is_plain(client: TestClient) -> None:
    resp = await client.get("/login", headers={"Accept-Encoding": "identity"})
    assert resp.status == 200 and "Content-Encoding" not in resp.headers
    assert "<form id=\"login-form\"" in await resp.text()


async def test_hashed_asset_is_immutable_gzipped_and_answers_304_to_its_etag(client: TestClient) -> None:
    html = await (await client.get("/login", headers=PLAIN)).text()
    css = re.search(r'href="(/static/app\.[0-9a-f]{10}\.css)"', html)
    assert css
    resp = await client.get(css.group(1), headers={"Accept-Encoding": "gzip, br"})
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["Content-Encoding"] == "gzip" and resp.headers["Content-Type"].startswith("text/css")
    body = gzip.decompress(await resp.read()).decode()
    assert "--accent" in body
    again = await client.get(css.group(1), headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304


async def test_js_modules_import_each_other_by_hashed_name(client: TestClient) -> None:
    html = await (await client.get("/sports", headers=PLAIN)).text()
    src = re.search(r'src="(/static/sports\.[0-9a-f]{10}\.js)"', html)
    assert src
    resp = await client.get(src.group(1), headers=PLAIN)
    assert resp.headers["Content-Type"].startswith("text/javascript")
    js = await resp.text()
    imports = re.findall(r'from "\./([^"]+)"', js)
    assert imports and all(re.fullmatch(r"[a-z]+\.[0-9a-f]{10}\.js", i) for i in imports)
    for name in imports:
        assert (await client.get(f"/static/{name}")).status == 200


async def test_unknown_or_unhashed_asset_is_a_json_404(client: TestClient) -> None:
    for path in ("/static/app.css", "/static/app.0000000000.css", "/static/..%2Fconfig.py"):
        resp = await client.get(path)
        assert resp.status == 404, path
        body = await resp.json()
        assert set(body) == {"error", "message", "details"}


async def test_service_worker_lists_the_hashed_assets_and_is_never_cached_long(client: TestClient) -> None:
    resp = await client.get("/sw.js", headers=PLAIN)
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["Content-Type"].startswith("text/javascript")
    js = await resp.text()
    html = await (await client.get("/login", headers=PLAIN)).text()
    for ref in re.findall(r'(?:href|src)="(/static/[^"]+)"', html):
        assert f'"{ref}"' in js
    assert "X-Offline-Copy" in js


async def test_favicon_robots_and_root(client: TestClient) -> None:
    icon = await client.get("/favicon.ico")
    assert icon.status == 200 and icon.headers["Content-Type"] == "image/svg+xml"
    assert b"<svg" in await icon.read()
    robots = await client.get("/robots.txt")
    assert robots.status == 200 and "Disallow: /api/" in await robots.text()
    root = await client.get("/", allow_redirects=False)
    assert root.status == 302 and root.headers["Location"] == "/sports"


async def test_manifest_names_the_app_its_icons_and_theme_colour(client: TestClient) -> None:
    """Installable: a manifest linked from every page, icons that exist (192 and 512 px, one maskable)."""
    html = await (await client.get("/sports", headers=PLAIN)).text()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    theme = re.search(r'<meta name="theme-color" content="(#[0-9a-f]{6})">', html)
    resp = await client.get("/manifest.webmanifest")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/manifest+json")
    doc = await resp.json(content_type=None)
    assert doc["name"] == "WagerBabe" and doc["start_url"] == "/sports" and doc["display"] == "standalone"
    assert theme and doc["theme_color"] == theme.group(1)
    sizes = {(i["sizes"], i["purpose"]) for i in doc["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in doc["icons"]:
        png = await client.get(icon["src"], headers=PLAIN)
        body = await png.read()
        assert png.status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n"
        side = int(icon["sizes"].split("x")[0])
        assert int.from_bytes(body[16:20], "big") == side and int.from_bytes(body[20:24], "big") == side


async def test_service_worker_falls_back_to_the_offline_page_never_another_page(client: TestClient) -> None:
    js = await (await client.get("/sw.js", headers=PLAIN)).text()
    assert '"/offline"' in js and 'caches.match("/offline")' in js and 'caches.match("/sports")' not in js
    page = await (await client.get("/offline", headers=PLAIN)).text()
    assert "You are offline" in page
