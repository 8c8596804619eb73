"""The CLI: ``python -m core <command>``.

Each module in this package is one command: it defines ``register(subparsers)`` which adds its
parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code.
Errors that derive from :class:`core.errors.CryptoVoltError`, and the disk's own errors a user can
fix (full, read-only, not a folder: :func:`core.errors.storage_error`), are printed as one
``error:`` line on stderr and end the run with exit code 1; bad arguments exit with 2 (argparse).
Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from core.errors import CryptoVoltError, storage_error

__all__ = ["main"]


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every command, or with ``only`` that one (each command module imports
    what it needs, so ``fetch`` starts without loading the model and signal stages)."""
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="CryptoVolt: Binance candles, indicators, models and signals, headless.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for name in [only] if only in names else names:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    try:
        # building the parser loads the model plugins (CRYPTOVOLT_MODEL_PLUGINS), which can fail
        parser = build_parser(args_in[0] if args_in else None)
        args = parser.parse_args(args_in)
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
