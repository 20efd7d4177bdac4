"""Prediction service: FastAPI app, auth, rate limits, fast inference, prediction log."""
