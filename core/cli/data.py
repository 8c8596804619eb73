"""``python -m core data``: candles held in quarantine because they did not fit the stored ones.

``data conflicts`` lists every coin in conflict (new candles from another source, or a sample that
disagrees with what is stored: :mod:`core.data.quarantine`); ``data resolve --coin BTC --replace``
makes the held candles the stored series (the old file is moved aside to ``data/quarantine/``),
``--discard`` drops them and keeps the stored series. Exit 1 with one ``error:`` line when the
coin has no conflict.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from core.cli._common import format_table
from core.config import Interval
from core.data import quarantine
from core.data.coins import parse_coin

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "data",
        help="candles held in quarantine (conflicts): list them, replace or discard",
        description=(
            "New candles that do not fit the stored ones (a price jump where they meet, or "
            "stored hours that disagree: another source) are not stored; they wait in "
            "data/quarantine/conflicts/ under the home folder until you choose."
        ),
    )
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    p_list = actions.add_parser("conflicts", help="every coin whose new candles are held back")
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_resolve = actions.add_parser(
        "resolve", help="choose for a coin in conflict: --replace or --discard"
    )
    p_resolve.add_argument("--coin", required=True, help="e.g. BTC or BTCUSDT")
    p_resolve.add_argument("--interval", default="1h", help="default 1h")
    choice = p_resolve.add_mutually_exclusive_group(required=True)
    choice.add_argument(
        "--replace",
        action="store_true",
        help="replace the stored series with the held candles (the old file is moved aside)",
    )
    choice.add_argument(
        "--discard", action="store_true", help="drop the held candles, keep the stored series"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.data_action == "resolve":
        coin = parse_coin(args.coin)
        interval = Interval.parse(args.interval).value
        print(
            quarantine.resolve(
                coin.symbol, interval, replace=bool(args.replace), paths=args.context.paths
            )
        )
        return 0
    found = quarantine.conflicts(paths=args.context.paths)
    if args.json:
        print(json.dumps([asdict(c) for c in found], indent=2))
        return 0
    if not found:
        print("No conflicts: every fetched candle fits the stored ones.")
        return 0
    rows = [
        [c.symbol, c.interval, f"{c.rows:,}", c.source, f"{c.stored_rows:,}", c.found_at]
        for c in found
    ]
    headers = ["symbol", "interval", "held", "from", "stored", "found (UTC)"]
    print(format_table(headers, rows))
    for c in found:
        print(f"conflict: {c.sentence()}")
    return 0
