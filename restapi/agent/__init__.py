"""The agent hub: customers, cashier on the ledger, weekly settlements, reports and dashboards.

``setup(app)`` registers every route of the group; ``restapi.app.create_app`` calls it.
"""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Add the agent hub's routes to ``app``."""
    from restapi.agent import routes_cashier, routes_clients, routes_import, routes_reports, routes_settlements

    for module in (routes_clients, routes_cashier, routes_settlements, routes_reports, routes_import):
        app.router.add_routes(module.routes)
