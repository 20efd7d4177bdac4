"""The Sign in page's check of an API key, before the dashboard keeps it.

No Streamlit here: the key is tried against the API with a throw-away client.
"""

from __future__ import annotations

from attrition.dashboard.api.client import ApiClient, ApiError, NoModelError

NO_KEY = "Enter an API key (create one with `attrition keys create --role viewer`)."


def verify(api_url: str, api_key: str) -> str | None:
    """None if the API accepts the key, else a message saying what is wrong."""
    if not api_key.strip():
        return NO_KEY
    with ApiClient(api_url, api_key.strip()) as client:
        try:
            client.model()
        except NoModelError:
            return None  # the key passed authentication; there is just no model yet
        except ApiError as error:
            return str(error)
    return None
