"""Streamlit dashboard that talks only to the API."""
