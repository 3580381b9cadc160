"""The mobile web app served by restapi: page shells (aiohttp-jinja2), hashed static assets, a service worker.

``setup(app)`` registers it; the pages' JS modules talk to the JSON API and to pushd.
"""

from __future__ import annotations

from restapi.web.routes import setup

__all__ = ["setup"]
