"""Exceptions that carry a message meant for the user, not a traceback.

The kinds below say what went wrong, so each entry point maps them once: the CLI prints
the message and exits 1; the API answers 404, 409 or 503 (``serving/errors.py``).
"""


class AttritionError(Exception):
    """A failure the user can act on; the CLI prints the message and exits 1."""


class NotFoundError(AttritionError):
    """The thing asked for does not exist (an unknown model version, report, key)."""


class ConflictError(AttritionError):
    """The request is valid but the current state refuses it (nothing to roll back to,
    too few rows to check for drift)."""


class UnavailableError(AttritionError):
    """A service this needs (database, registry) cannot be reached right now."""
