"""``python -m core import PATH...``: Binance archive files (zip or CSV, monthly or daily) and
plain CSV with a header, into the store (:mod:`core.data.importer`).

One line per file: stored (with its new candles and gaps), refused (a checksum that does not
match, an unreadable file: nothing of it stored) or conflict (held back by the seam check).
Exit code 1 when any file was refused or held back; ``--json`` prints one JSON list instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from core.data.importer import ImportResult, check_names, import_file

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import",
        help="load candle files you have: Binance archives (zip/CSV) or CSV with a header",
        description=(
            "Loads Binance's kline archive files (BTCUSDT-1h-2024-01.zip, monthly or daily; "
            "the .CHECKSUM beside a file is verified when present) and plain CSV with a header "
            "(open_time or timestamp, open, high, low, close, volume). The coin and interval come "
            "from the file name or --coin / --interval. Gaps are reported, never filled; candles "
            "that disagree with the stored ones are held back, as a fetch does."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files to import")
    parser.add_argument("--coin", default=None, help="the coin, when the file name does not say")
    parser.add_argument(
        "--interval", default=None, help="the interval, when the file name does not say"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list, one per file")
    parser.set_defaults(func=run)


def _line(r: ImportResult) -> str:
    name = Path(r.path).name
    if r.status == "stored":
        missing = sum(int(str(g["missing"])) for g in r.gaps)
        gaps = (
            f"; {len(r.gaps)} gap(s), {missing:,} candle(s) missing (not filled)" if r.gaps else ""
        )
        checked = ", sha256 verified" if r.checksum == "verified" else ""
        return (
            f"{name}: {r.symbol} {r.interval}: {r.rows:,} candle(s) {r.first} to {r.last}, "
            f"{r.new_rows:,} new stored{checked}{gaps}."
        )
    return f"{name}: {r.status}: {r.reason}"


def run(args: argparse.Namespace) -> int:
    paths = [Path(p).expanduser() for p in args.paths]
    check_names(paths, symbol=args.coin, interval=args.interval)
    results = [
        import_file(p, symbol=args.coin, interval=args.interval, paths=args.context.paths)
        for p in paths
    ]
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in results], indent=2))
    else:
        for r in results:
            print(_line(r))
    bad = [r for r in results if r.status != "stored"]
    if bad:
        print(
            f"error: {len(bad)} of {len(results)} file(s) not stored: {Path(bad[0].path).name}: "
            f"{bad[0].reason}",
            file=sys.stderr,
        )
        return 1
    return 0
