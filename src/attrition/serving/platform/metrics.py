"""Prometheus metrics of one app; aggregated across worker processes when several run.

With ``attrition serve --workers N`` the parent sets ``PROMETHEUS_MULTIPROC_DIR`` before
the workers start, every worker writes its values there, and ``/metrics`` (answered by
any worker) sums them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    latency: Histogram
    predictions: Counter
    model_info: Gauge
    reloads: Counter
    spool_rows: Gauge
    spooled_total: Counter
    rate_limited: Counter
    refused_inputs: Counter


def build_metrics() -> Metrics:
    """Fresh metrics in their own registry (so several apps can live in one process)."""
    registry = CollectorRegistry(auto_describe=True)
    return Metrics(
        registry=registry,
        latency=Histogram(
            "attrition_http_request_duration_seconds",
            "Request latency by route and status",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        predictions=Counter(
            "attrition_predictions_total",
            "Predictions answered, by decision",
            ["decision"],
            registry=registry,
        ),
        model_info=Gauge(
            "attrition_model_info",
            "1 for the model version being served, with where it came from",
            ["name", "version", "source"],
            registry=registry,
            multiprocess_mode="livemax",
        ),
        reloads=Counter(
            "attrition_model_reloads_total",
            "Model reloads by result",
            ["result"],
            registry=registry,
        ),
        spool_rows=Gauge(
            "attrition_prediction_log_spool_rows",
            "Prediction-log rows waiting in the local spool",
            registry=registry,
            multiprocess_mode="livesum",
        ),
        spooled_total=Counter(
            "attrition_prediction_log_spooled_rows_total",
            "Prediction-log rows that went to the spool because the database was down",
            registry=registry,
        ),
        rate_limited=Counter(
            "attrition_rate_limited_total",
            "Requests refused by the rate limiter",
            registry=registry,
        ),
        refused_inputs=Counter(
            "attrition_refused_inputs_total",
            "Request-body fields refused by validation (422), by field and reason",
            ["field", "reason"],
            registry=registry,
        ),
    )


def exposition(metrics: Metrics) -> tuple[bytes, str]:
    """The text exposition: this process's metrics, or every worker's when multiprocess."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(metrics.registry), CONTENT_TYPE_LATEST
