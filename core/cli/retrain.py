"""``python -m core retrain --if-stale 7d --if-degraded``: challengers for stale or degraded
champions, promoted only when their gates pass and they beat the champion.

The decisions are :func:`core.live.retrain.plan`; each line printed (and logged to
``logs/retrain.log``) says why a coin was or was not retrained and whether the new version was
promoted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from core.cli._common import format_table
from core.data.coins import parse_coins
from core.live import retrain

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "retrain",
        help="train challengers for champions that are stale or whose coin is degraded",
        description=(
            "For each coin with a champion: retrain the champions older than --if-stale, and "
            "(with --if-degraded) every champion of a coin the monitor calls degraded, with the "
            "champion's own settings. A challenger is promoted only when its gates pass and it "
            "beats the champion; every decision is printed and logged to logs/retrain.log."
        ),
    )
    parser.add_argument("--coins", default=None, help="comma-separated coins (default: all)")
    parser.add_argument("--if-stale", metavar="AGE", default=None, help="e.g. 7d, 12h, 2w")
    parser.add_argument(
        "--if-degraded", action="store_true", help="retrain coins the monitor calls degraded"
    )
    parser.add_argument(
        "--background", action="store_true", help="launch background jobs instead of waiting"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: per coin the decision and why, then each outcome line",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stale = retrain.parse_age(args.if_stale) if args.if_stale else None
    coins = [c.symbol for c in parse_coins(args.coins)] if args.coins else None
    plans = retrain.plan(
        coins, home=args.context.home, stale_after=stale, if_degraded=args.if_degraded
    )
    rows = [
        [p.symbol, ", ".join(p.kinds) if p.kinds else "keep", "; ".join(p.reasons)] for p in plans
    ]
    decisions = [
        {"coin": p.symbol, "retrain": list(p.kinds), "why": list(p.reasons)} for p in plans
    ]
    if not args.json:
        print(format_table(["coin", "retrain", "why"], rows))
    if not any(p.kinds for p in plans):
        if args.json:
            print(json.dumps({"ok": True, "plans": decisions, "outcomes": []}, indent=2))
        else:
            print("Nothing to retrain.")
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    lines = retrain.run(
        plans, home=args.context.home, background=args.background, progress=_WaitLine()
    )
    failed = any("retraining failed" in line or "retraining cancelled" in line for line in lines)
    if args.json:
        print(json.dumps({"ok": not failed, "plans": decisions, "outcomes": lines}, indent=2))
    else:
        print("\n".join(lines))
    return 1 if failed else 0


class _WaitLine:
    """While a coin waits for a training slot, one line on stderr saying what holds them."""

    def __init__(self) -> None:
        self.last = ""

    def __call__(self, event: object) -> None:
        if isinstance(event, str) and event != self.last:
            self.last = event
            print(f"{event}; Ctrl-C to stop", file=sys.stderr, flush=True)
