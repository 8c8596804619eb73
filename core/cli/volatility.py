"""``python -m core volatility``: train and card each coin's volatility models (vol_har, vol_gbm)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.cli._common import format_table
from core.data.coins import parse_coins
from core.errors import CryptoVoltError

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "volatility",
        help="train volatility models per coin: 6 h / 24 h forecasts and expected-move bands",
        description=(
            "Forecast each coin's log realised variance over the next 6 h and 24 h (Garman-Klass "
            "per hour, summed), judged on the last 20%% of its candles against persistence, EWMA, "
            "the historical mean and (for gbm) the HAR, with 50/80/90%% bands calibrated out of "
            "time. A horizon whose gates pass shows its expected move on the coin's signal. "
            "docs/VOLATILITY.md says how."
        ),
    )
    parser.add_argument(
        "--coins", default="all", help="comma-separated coins (default: every stored 1h coin)"
    )
    parser.add_argument(
        "--estimators", default="har", help="comma-separated: har (default), gbm, or har,gbm"
    )
    parser.add_argument(
        "--force", action="store_true", help="promote every new version whatever its gates say"
    )
    parser.add_argument(
        "--pooled",
        action="store_true",
        help="fit one model on every chosen coin's training rows (inputs normalised per coin), "
        "registered per coin as vol_pooled_<estimator> with each coin's own card",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list of the cards")
    parser.set_defaults(func=run)


def _coins(text: str) -> list[str]:
    coins = [c.symbol for c in parse_coins(text)]
    if text.strip().lower() in {"", "all"}:
        from core.data.store import list_stored

        stored = {s for s, i in list_stored() if i == "1h"}
        coins = [c for c in coins if c in stored] or sorted(stored) or coins
    return coins


def _row(result: Any) -> list[object]:
    ev, record = result.evaluation, result.record
    parts = []
    for key, r in ev.horizons.items():
        best = r.best_baseline
        parts.append(
            f"{key}: QLIKE {r.scores['model']['qlike']:.3f} vs {best} "
            f"{r.scores[best]['qlike']:.3f}, R2 {r.scores['model']['r2']:.2f}, "
            f"80% band {r.coverage['80']:.1%} {'PASS' if r.passed else 'fail'}"
        )
    role = "champion" if result.promoted else "challenger"
    return [record.name, record.version, role, " | ".join(parts)]


def run(args: argparse.Namespace) -> int:
    from core.volatility.estimators import ESTIMATORS
    from core.volatility.train import train_volatility, train_volatility_pooled

    estimators = [e.strip().lower() for e in args.estimators.split(",") if e.strip()]
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown or not estimators:
        print(
            f"error: --estimators {args.estimators!r}: use {' or '.join(ESTIMATORS)} "
            "(comma-separated); add --pooled for one model over every coin.",
            file=sys.stderr,
        )
        return 2
    rows: list[list[object]] = []
    cards: list[dict[str, Any]] = []
    failed = False
    coins = _coins(args.coins)
    results: list[Any] = []
    for est in estimators:
        if args.pooled:
            try:
                results += train_volatility_pooled(coins, estimator=est, force=args.force)
            except CryptoVoltError as exc:
                print(f"error: pooled {est}: {exc}", file=sys.stderr)
                failed = True
            continue
        for symbol in coins:
            try:
                results.append(train_volatility(symbol, estimator=est, force=args.force))
            except CryptoVoltError as exc:
                print(f"error: {symbol} {est}: {exc}", file=sys.stderr)
                failed = True
    for result in results:
        rows.append(_row(result))
        horizons = result.evaluation.horizons
        cards.append(
            {
                "name": result.record.name,
                "version": result.record.version,
                "promoted": result.promoted,
                "passed_horizons": [k for k, r in horizons.items() if r.passed],
                "horizons": {k: r.to_dict() for k, r in horizons.items()},
            }
        )
    if args.json:
        print(json.dumps(cards, indent=2, default=str))
    elif rows:
        print(format_table(["model", "version", "role", "test window (last 20%)"], rows))
    return 1 if failed and not rows else 0
