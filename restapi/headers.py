"""Security headers on every restapi answer: pages, assets, JSON and errors (issue 13).

One ``on_response_prepare`` hook adds them as each response starts, so no handler can forget them.
The web app has no inline script or style, so its Content-Security-Policy allows scripts, styles and
images from this origin only and connections to this origin and the push URL. Swagger UI at
``/docs`` is a third-party page with one inline script: it gets that script's hash, nothing wider.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from restapi.config import RestSettings

Hook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=()")


def push_source(push_url: str) -> str:
    """The push URL as a CSP source (scheme, host, port and path), or '' when it names no host."""
    parts = urlsplit(push_url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc or any(c in push_url for c in " ;,'\""):
        return ""
    return push_url


def content_security_policy(push_url: str, script_hashes: tuple[str, ...] = (), docs: bool = False) -> str:
    """The policy of a page: this origin only, ``connect-src`` naming the push URL, never framed."""
    scripts = " ".join(("'self'", *(f"'sha256-{h}'" for h in script_hashes)))
    connect = " ".join(s for s in ("'self'", push_source(push_url)) if s)
    directives = [
        "default-src 'none'",
        f"script-src {scripts}",
        # Swagger UI sets style attributes and draws icons from data: URLs; the web app does neither.
        "style-src 'self' 'unsafe-inline'" if docs else "style-src 'self'",
        "img-src 'self' data:" if docs else "img-src 'self'",
        "font-src 'self'",
        f"connect-src {connect}",
        "manifest-src 'self'",
        "worker-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def inline_script_hashes(html: bytes) -> tuple[str, ...]:
    """The base64 SHA-256 of each inline ``<script>`` of ``html`` (for a CSP hash source)."""
    return tuple(base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()
                 for m in _INLINE_SCRIPT.finditer(html))


def is_https(request: web.Request, trusted_proxies: tuple[str, ...]) -> bool:
    """Did the client reach us over HTTPS: TLS here, or ``X-Forwarded-Proto: https`` from a trusted proxy?"""
    if request.secure:
        return True
    if (request.remote or "") in trusted_proxies:
        return request.headers.get("X-Forwarded-Proto", "").strip().lower() == "https"
    return False


def security_headers(settings: RestSettings) -> Hook:
    """The ``on_response_prepare`` hook that adds the security headers to every answer."""
    policy = content_security_policy(settings.push_url)
    hsts = f"max-age={settings.hsts_max_age}; includeSubDomains" if settings.hsts_max_age else ""

    # Reset links carry their token in the URL: no page sends its address anywhere (Referrer-Policy).
    fixed = {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
             "Referrer-Policy": "no-referrer", "Permissions-Policy": PERMISSIONS_POLICY,
             "Cross-Origin-Opener-Policy": "same-origin"}

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        h = response.headers
        h.update(fixed)  # one call for the six fixed headers: this runs on every answer
        if request.path == "/docs" or request.path.startswith("/docs/"):
            body = response.body if isinstance(response, web.Response) else None
            hashes = inline_script_hashes(body) if isinstance(body, bytes) else ()
            h["Content-Security-Policy"] = content_security_policy(settings.push_url, hashes, docs=True)
        if hsts and is_https(request, settings.trusted_proxies):
            h["Strict-Transport-Security"] = hsts

    return add


def setup_security_headers(app: web.Application, settings: RestSettings) -> None:
    """Install the security-header hook on ``app``."""
    app.on_response_prepare.append(security_headers(settings))
