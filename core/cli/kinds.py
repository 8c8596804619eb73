"""``python -m core kinds``: every model kind (a recipe plus an estimator) and what it predicts."""

from __future__ import annotations

import argparse
import json
from typing import Any

from core.cli._common import format_table
from core.models import kind_info, kinds

__all__ = ["kind_rows", "register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "kinds",
        help="list the model kinds: what each predicts, its estimator, horizon, default set",
        description=(
            "Every registered model kind: what it predicts (probability, return, price, "
            "volatility), the estimator that fits it, its horizon in candles (with the default "
            "target), and whether `train` fits it by default."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def kind_rows() -> list[dict[str, Any]]:
    """One dict per registered kind, in registration order."""
    rows = []
    for name in kinds():
        kind = kind_info(name)
        rows.append(
            {
                "kind": kind.name,
                "predicts": kind.output.value,
                "estimator": kind.estimator_name,
                "horizon": kind.horizon(),
                "default": kind.default,
                "pooled": kind.pooled,
                "votes": kind.votes,
                "recipe": kind.recipe.name,
                "label": kind.label,
                "description": kind.description,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    rows = kind_rows()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    headers = ("kind", "predicts", "estimator", "horizon", "default", "what")
    table = [
        (
            r["kind"],
            r["predicts"],
            r["estimator"],
            f"{r['horizon']} candle{'s' if r['horizon'] != 1 else ''}",
            "yes" if r["default"] else "",
            r["description"],
        )
        for r in rows
    ]
    print(format_table(headers, table))
    return 0
