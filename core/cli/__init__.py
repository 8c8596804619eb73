"""The CLI: ``python -m core <command>``.

Each module in this package is one command: it defines ``register(subparsers)`` which adds its
parser and sets ``func`` to a callable taking the parsed arguments and returning an exit code.
Errors that derive from :class:`core.errors.CryptoVoltError` are printed as one line on stderr
and end the run with exit code 1; bad arguments exit with 2 (argparse).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from core.errors import CryptoVoltError

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="CryptoVolt: Binance candles, indicators, models and signals, headless.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CryptoVoltError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: files written so far are kept; run the command again to resume.",
            file=sys.stderr,
        )
        return 130
