"""Exceptions that carry a message meant for the user, not a traceback."""


class AttritionError(Exception):
    """A failure the user can act on; the CLI prints the message and exits 1."""


class NotAvailableError(AttritionError):
    """A command whose capability is not built yet."""
