"""The API's routes, one module per resource, named after its URL:

- ``health.py``: ``/health/live``, ``/health/ready``, ``/metrics``
- ``predictions.py``: ``/v1/predictions``, ``/v1/predictions/batch``
- ``outcomes.py``: ``/v1/outcomes``
- ``workforce.py``: ``/v1/workforce/summary``
- ``monitoring.py``: ``/v1/monitoring/run``, ``/v1/monitoring/reports*``
- ``auth.py``: ``/v1/auth/me``
- ``model.py``: ``/v1/model``, ``/v1/models``
- ``admin.py``: ``/v1/admin/*``
- ``docs.py``: ``/docs`` (included by ``create_app`` only with ``ATTRITION_API_DOCS``)
"""

from __future__ import annotations

from fastapi import APIRouter

from attrition.serving.routes import (
    admin,
    auth,
    health,
    model,
    monitoring,
    outcomes,
    predictions,
    workforce,
)

# In the order of the OpenAPI document.
ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    predictions.router,
    outcomes.router,
    workforce.router,
    monitoring.router,
    auth.router,
    model.router,
    admin.router,
)
