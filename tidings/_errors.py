"""The error type every part of tidings raises for bad user input."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: the CLI prints `str(self)` and exits with code 2, no traceback.

    The message names the place (file:line:column, flag, or name) and says how to fix it.
    """
