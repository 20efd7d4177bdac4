"""What every request goes through, whatever its route: API keys and the access check,
rate limits, middleware (request id, body limit, access log), the one-write transport,
metrics, JSON logs and the replica id."""
