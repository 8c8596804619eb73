"""``python -m core journal verify | export``: check the signal journal's chain, or export it.

``verify`` checks every line of ``journal/signals.jsonl`` and ``journal/outcomes.jsonl`` against
their sha256 chain (:mod:`core.signals.journal_chain`) and exits 1 naming each edited, deleted,
inserted or damaged line (not an entry: readers skip it), and a head file deleted with the last
lines. ``export`` writes every signal with its outcome (one row per signal, the columns of
:data:`core.signals.journal.COLUMNS`) as CSV or JSON, to a file or stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from core.atomic import atomic_write_text
from core.errors import ConfigError
from core.signals import journal

__all__ = ["export_text", "register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "journal",
        help="verify the signal journal's sha256 chain, or export it as CSV / JSON",
        description=(
            "The journal records every signal shown and, once its horizon passed, its outcome. "
            "Each line is sealed with the sha256 of the one before it."
        ),
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = sub.add_parser(
        "verify", help="find edited, deleted, inserted or damaged lines (exit 1)"
    )
    verify.add_argument("--json", action="store_true", help="print one JSON object instead")
    verify.set_defaults(func=_verify)
    export = sub.add_parser("export", help="every signal with its outcome, as CSV or JSON")
    export.add_argument("--format", default="csv", help="csv (default) or json")
    export.add_argument("--out", default=None, help="file to write (default: stdout)")
    export.add_argument("--coin", default=None, help="only this coin (e.g. BTC)")
    export.set_defaults(func=_export)


def _verify(args: argparse.Namespace) -> int:
    reports = journal.verify(args.context.home)
    ok = all(r.ok for r in reports)
    if args.json:
        files = [
            {
                "name": r.name,
                "entries": r.entries,
                "ok": r.ok,
                "problems": list(r.problems),
                "notes": list(r.notes),
            }
            for r in reports
        ]
        print(json.dumps({"ok": ok, "files": files}, indent=2))
        return 0 if ok else 1
    for report in reports:
        if report.ok:
            print(f"{report.name}: {report.entries} entries, chain intact.")
        else:
            print(f"{report.name}: {len(report.problems)} problem(s) in {report.entries} entries:")
        for problem in report.problems:  # edited, deleted or inserted lines, or damaged ones
            print(f"  PROBLEM: {problem}")
        for note in report.notes:
            print(f"  note: {note}")
    return 0 if ok else 1


def export_text(frame: pd.DataFrame, fmt: str) -> str:
    """``frame`` (:func:`core.signals.journal.entries`) as CSV or as a JSON list.

    Times are ISO 8601 UTC; ``models`` and ``votes`` are JSON inside a CSV cell.

    Raises:
        ConfigError: a format other than csv or json.
    """
    fmt = fmt.strip().lower()
    if fmt not in {"csv", "json"}:
        raise ConfigError(f"unknown export format {fmt!r}: use --format csv or --format json.")
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].map(lambda t: None if pd.isna(t) else t.isoformat())
    if fmt == "json":
        rows = out.astype(object).where(out.notna(), None).to_dict(orient="records")
        return json.dumps(rows, indent=2, default=str) + "\n"
    for column in ("models", "votes"):
        out[column] = out[column].map(lambda v: json.dumps(v, default=str))
    return str(out.to_csv(index=False))


def _export(args: argparse.Namespace) -> int:
    symbol = None
    if args.coin:
        from core.data.coins import parse_coin

        symbol = parse_coin(args.coin).symbol
    text = export_text(journal.entries(args.context.home, symbol=symbol), args.format)
    if args.out:
        atomic_write_text(Path(args.out), text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
