"""``python -m core export``: the stored candles of one coin as CSV (stdout or a file)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.atomic import atomic_write_bytes
from core.data.coins import parse_coin
from core.data.store import export_csv

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a coin's stored candles as CSV",
        description=(
            "Export the stored candles of one coin (all twelve Binance fields but 'ignore', "
            "ISO UTC times) as CSV to stdout, or to --out FILE."
        ),
    )
    parser.add_argument("--coin", required=True, help="e.g. BTC or BTCUSDT")
    parser.add_argument("--interval", default="1h", help="default 1h")
    parser.add_argument("--format", choices=["csv"], default="csv", help="only csv for now")
    parser.add_argument(
        "--out", default=None, help="file to write ('-' or omitted: standard output)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    coin = parse_coin(args.coin)
    data = export_csv(coin.symbol, args.interval, paths=args.context.paths)
    if args.out in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return 0
    path = Path(args.out).expanduser()
    atomic_write_bytes(path, data)
    rows = data.count(b"\n") - 1
    print(f"wrote {rows:,} {coin.symbol} candles to {path}", file=sys.stderr)
    return 0
