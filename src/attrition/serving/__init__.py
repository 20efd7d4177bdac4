"""The prediction service, by concern:

- ``app.py`` builds the FastAPI app (``create_app(settings)``); ``state.py`` wires the
  per-app state; ``routes/`` holds one module per resource, named after its URL;
  ``deps.py`` the handlers' dependencies; ``errors.py`` the one table from typed errors to
  HTTP statuses; ``openapi.py`` what the document adds; ``payloads.py`` the request and
  response models; ``queries.py`` the database reads and writes behind the routes;
  ``admin_events.py`` the audit trail of what keys do through the API.
- ``inference/``: loading the champion and scoring (compiled path, offline CSV scoring).
- ``predlog/``: the prediction log writer and its spool.
- ``platform/``: what every request goes through (API keys, access check, rate limits,
  middleware, transport, metrics, logs, replica id).
"""
