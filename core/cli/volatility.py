"""``python -m core volatility``: an alias of ``python -m core train --models vol_har`` (the
volatility models are kinds like the others; there is one training path)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register", "run", "train_argv"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "volatility",
        help="alias of `train --models vol_har` (volatility models are kinds: see `kinds`)",
        description=(
            "Kept for old scripts: runs `python -m core train --models vol_<estimator> "
            "[--pooled]` (the 6 h / 24 h volatility forecasts and expected-move bands, "
            "docs/VOLATILITY.md) and says so on stderr."
        ),
    )
    parser.add_argument("--coins", default="all", help="comma-separated coins (default: all)")
    parser.add_argument(
        "--estimators", default="har", help="comma-separated: har (default), gbm, or har,gbm"
    )
    parser.add_argument("--force", action="store_true", help="as train --force")
    parser.add_argument("--pooled", action="store_true", help="as train --pooled")
    parser.add_argument("--json", action="store_true", help="as train --json")
    parser.set_defaults(func=run)


def train_argv(args: argparse.Namespace) -> list[str] | None:
    """The ``train`` arguments this alias stands for; ``None`` for an unknown estimator."""
    from core.volatility.train import volatility_kinds

    per_coin = {e: k for e, k in volatility_kinds().items() if not e.startswith("pooled_")}
    estimators = [e.strip().lower() for e in args.estimators.split(",") if e.strip()]
    if not estimators or any(e not in per_coin for e in estimators):
        return None
    argv = ["train", "--coins", args.coins, "--models", ",".join(per_coin[e] for e in estimators)]
    return argv + [f"--{flag}" for flag in ("pooled", "force", "json") if getattr(args, flag)]


def run(args: argparse.Namespace) -> int:
    from core.cli import train
    from core.volatility.train import volatility_kinds

    argv = train_argv(args)
    if argv is None:
        known = [e for e in volatility_kinds() if not e.startswith("pooled_")]
        print(
            f"error: --estimators {args.estimators!r}: use {' or '.join(known)} "
            "(comma-separated); add --pooled for one model over every coin.",
            file=sys.stderr,
        )
        return 2
    print(
        f"note: `volatility` is an alias: running `python -m core {' '.join(argv)}`.",
        file=sys.stderr,
    )
    parser = argparse.ArgumentParser(prog="python -m core")
    train.register(parser.add_subparsers())
    forwarded = parser.parse_args(argv)
    forwarded.context = args.context  # the same run: the home and clock its edge read
    code: int = forwarded.func(forwarded)
    return code
