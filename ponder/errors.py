"""The one user-facing error type: the CLI prints its message on one line and exits 2."""


class PonderError(Exception):
    """Bad input from the user (a config, a path, a player spec, a checkpoint).

    Raise it with a message that names the culprit and says what was expected; the CLI shows the
    message alone, without a traceback. Bugs should stay ordinary exceptions so they are loud.
    """

    exit_code = 2
