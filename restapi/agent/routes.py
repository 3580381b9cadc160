"""The agent hub's routes: a ``web.RouteTableDef`` per area (``routes_clients``, ``routes_cashier``,
``routes_settlements``, ``routes_reports``, ``routes_import``: the hub is too big for one module)
and one ``setup``."""

from __future__ import annotations

from aiohttp import web

from restapi.agent import routes_cashier, routes_clients, routes_import, routes_reports, routes_settlements

AREAS = (routes_clients, routes_cashier, routes_settlements, routes_reports, routes_import)


def setup(app: web.Application) -> None:
    """Add the agent hub's routes to ``app``."""
    for area in AREAS:
        app.router.add_routes(area.routes)
