"""Data pipeline: synthetic workforces, validation, ingest, loading."""
