"""The agent hub: customers, cashier on the ledger, weekly settlements, reports and dashboards.

``routes.setup(app)`` registers every route of the group; ``restapi.app.create_app`` calls it.
"""
