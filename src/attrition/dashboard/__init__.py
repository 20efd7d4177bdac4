"""Streamlit dashboard that talks only to the API.

``app.py`` is the entry point (the only module that reads the settings); ``views/`` holds
one Streamlit script per page and ``panels/`` its pure part under the same name; ``api/``
is the client and its response models; ``session.py`` is the per-user Streamlit glue.
"""
