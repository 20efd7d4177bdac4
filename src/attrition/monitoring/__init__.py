"""Monitoring: drift and performance detection, reports, alerts, retraining."""
