"""``python -m core``: the command-line interface (see core/cli/); the same as the installed
``cryptovolt`` command (:func:`core.cli.run`).

A log line that cannot be written (a full disk) is dropped rather than printed as a traceback:
the command's own ``error:`` line says what happened. In-process callers (tests, the app) keep
:mod:`logging`'s default, so a broken log call still shows there.
"""

from core.cli import run

run("python -m core")
