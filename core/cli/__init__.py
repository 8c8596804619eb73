"""The CLI: ``python -m core <command>``.

Each module in this package is one command: it defines ``register(subparsers)`` which adds its
parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code.
Errors that derive from :class:`core.errors.CryptoVoltError`, and the disk's own errors a user can
fix (full, read-only, not a folder: :func:`core.errors.storage_error`), are printed as one
``error:`` line on stderr and end the run with exit code 1; bad arguments exit with 2 (argparse).
Any other exception is a bug and keeps its traceback.

Global options come before the command: ``--version`` (the package's version) and ``--home PATH``
(the home folder for this run, overriding ``CRYPTOVOLT_HOME``). The edge reads both once, here,
into ``args.context`` (:class:`core.context.Context`, the home and the clock the commands pass
on); the environment is not written: a background job gets the home from the job launcher's
child environment.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from core.errors import CryptoVoltError, storage_error

__all__ = ["main", "run"]

HOME_ENV = "CRYPTOVOLT_HOME"


def build_parser(only: str | None = None, prog: str = "python -m core") -> argparse.ArgumentParser:
    """The parser with every command, or with ``only`` that one (each command module imports
    what it needs, so ``fetch`` starts without loading the model and signal stages)."""
    from core import version

    parser = argparse.ArgumentParser(
        prog=prog,
        description="CryptoVolt: Binance candles, indicators, models and signals, headless.",
    )
    parser.add_argument("--version", action="version", version=f"cryptovolt {version()}")
    parser.add_argument(
        "--home",
        metavar="PATH",
        help=f"the home folder for this run (candles, models, jobs, journal); the same as "
        f"${HOME_ENV}, which it overrides (default: ${HOME_ENV}, else the project folder)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    only = {"import": "imports"}.get(only or "", only)  # a keyword cannot name a module
    if only == "":  # --version alone: no command module is needed
        names = []
    for name in [only] if only in names else names:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


def _command_name(args: Sequence[str]) -> str | None:
    """The command's name: the first argument that is neither a global option nor its value."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--home":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: Sequence[str] | None = None, prog: str = "python -m core") -> int:
    """Run one command; returns the process exit code. ``--home`` holds for this call only."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    try:
        # building the parser loads the model plugins (CRYPTOVOLT_MODEL_PLUGINS), which can fail
        name = _command_name(args_in)
        if name is None and "--version" in args_in and not {"-h", "--help"} & set(args_in):
            name = ""
        parser = build_parser(name, prog)
        args = parser.parse_args(args_in)
        from core.clock import clock_from_env
        from core.context import Context

        # the home and the clock, read once here; --home wins over $CRYPTOVOLT_HOME
        if args.home is None:
            args.context = Context.from_env()
        else:
            args.context = Context(home=_home_folder(args.home), clock=clock_from_env(os.environ))
        return int(args.func(args) or 0)
    except CryptoVoltError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        error = storage_error(exc)
        if error is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: files written so far are kept; run the command again to resume.",
            file=sys.stderr,
        )
        return 130


def _home_folder(value: str) -> Path:
    """The folder ``--home value`` names (relative: under the current directory).

    Raises:
        ConfigError: ``value`` is empty or names a file (a missing folder is created on write).
    """
    from core.errors import ConfigError

    if not value.strip():
        raise ConfigError(
            "--home needs a folder: e.g. --home ~/cryptovolt (a missing one is created)."
        )
    path = Path(value.strip()).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(
            f"--home {value} is a file, not a folder: give a folder (a missing one is created)."
        )
    return path


def run(prog: str = "cryptovolt") -> None:
    """The ``cryptovolt`` console script and ``python -m core``: :func:`main`, then exit with its code.

    A log line that cannot be written (a full disk) is dropped rather than printed as a traceback:
    the command's own ``error:`` line says what happened.

    A reader that closes the pipe early (``job list | head``) ends the command quietly, as
    Python's documentation recommends for SIGPIPE: the rest of the output goes to /dev/null and
    the exit code is 141 (128 + SIGPIPE), what a shell reports for other tools in that place.
    """
    logging.raiseExceptions = False
    try:
        code = main(prog=prog)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 141
    raise SystemExit(code)
