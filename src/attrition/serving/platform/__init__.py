"""What every request goes through, whatever its route: API keys (``api_keys.py``) and the
access check (``access.py``), rate limits, middleware (request id, body limit, access log),
the one-write transport, metrics, JSON logs and the replica id; and the process's cheap
unique ids and its one-at-a-time background job runner."""
