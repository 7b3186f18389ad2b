"""Errors a user can act on. The CLI prints their message and exits non-zero."""


class IdpackError(Exception):
    """A failure with a message that tells the user what happened and what to do."""
