"""The one exception type the CLI turns into a clear message instead of a traceback."""

import click


class ArctlError(click.ClickException):
    """A failure the user can act on: the message says what happened and what to do."""

    exit_code = 2
