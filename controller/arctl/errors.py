"""The one exception type the CLI turns into a clear message instead of a traceback.

It depends on nothing but the standard library, so the trusted grading code can run in the
sandbox image (see compose.yaml) without arctl's host dependencies.
"""


class ArctlError(Exception):
    """A failure the user can act on: the message says what happened and what to do."""

    exit_code = 2
