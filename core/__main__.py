"""``python -m core``: the command-line interface (see core/cli/).

A log line that cannot be written (a full disk) is dropped rather than printed as a traceback:
the command's own ``error:`` line says what happened. In-process callers (tests, the app) keep
:mod:`logging`'s default, so a broken log call still shows there.
"""

import logging

from core.cli import main

logging.raiseExceptions = False
raise SystemExit(main())
