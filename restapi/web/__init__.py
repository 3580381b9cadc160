"""The mobile web app served by restapi: page shells (aiohttp-jinja2), hashed static assets, a service worker.

``routes.setup(app)`` registers it; the pages' JS modules talk to the JSON API and to pushd.
"""
