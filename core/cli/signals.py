"""``python -m core signals``: the live ensemble signal per coin, as a table or JSON.

Every signal printed is recorded in the signal journal (``{home}/journal/``), and journal
entries whose horizon has passed are judged against the stored closes first.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

import pandas as pd

from core.cli._common import format_table
from core.config import Interval, SignalConfig
from core.data.coins import parse_coins
from core.errors import CryptoVoltError, ModelNotFoundError
from core.signals import journal
from core.signals.live import Signal, compute_signals, symbols_with_models

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "signals",
        help="live BULLISH / BEARISH / NEUTRAL per coin with out-of-sample confidence",
        description=(
            "Compute each trained coin's ensemble signal on its last closed candle. Confidence "
            "is the hit rate the same rule had on the out-of-sample predictions saved at "
            "training time, with the number of calls it rests on (support)."
        ),
    )
    parser.add_argument(
        "--coins", default=None, help="comma-separated coins (default: every coin with a model)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list for machines")
    parser.add_argument(
        "--refresh", action="store_true", help="top the candles up from Binance first"
    )
    parser.add_argument(
        "--no-journal", action="store_true", help="do not record these signals in the journal"
    )
    parser.set_defaults(func=run)


def _refresh(symbols: list[str], interval: str) -> list[str]:
    """Top candles up; returns one line per coin that could not be refreshed."""
    from core.data.fetch import fetch_coins

    problems = []
    for result in fetch_coins(symbols, interval=interval):
        if str(getattr(result.status, "value", result.status)) == "failed":
            problems.append(f"{result.symbol}: not refreshed ({result.reason})")
    return problems


def _age(signal: Signal, now: datetime) -> str:
    closed = signal.candle_time + pd.Timedelta(
        milliseconds=Interval.parse(signal.interval).milliseconds
    )
    hours = (pd.Timestamp(now) - closed).total_seconds() / 3600
    return f"{hours:.0f}h" if hours < 48 else f"{hours / 24:.0f}d"


def _row(signal: Signal, now: datetime) -> list[object]:
    confidence = "n/a" if signal.confidence is None else f"{signal.confidence:.0%}"
    xgb = "" if signal.xgb_probability is None else f"{signal.xgb_probability:.2f}"
    lstm = (
        ""
        if signal.lstm_forecast is None
        else f"{signal.lstm_forecast:,.6g} ({signal.lstm_change:+.2%})"
    )
    agree = {True: "yes", False: "no", None: ""}[signal.agree]
    return [
        signal.symbol,
        signal.signal.value,
        f"{confidence} of {signal.support}",
        f"{signal.price:,.6g}",
        f"{signal.candle_time:%Y-%m-%d %H:%M} ({_age(signal, now)} old)",
        xgb,
        lstm,
        agree,
        " ".join(f"{n}:{v}" for n, v in signal.models.items()),
    ]


def run(args: argparse.Namespace) -> int:
    from core.registry.model_registry import ModelRegistry

    registry = ModelRegistry()
    symbols = (
        [c.symbol for c in parse_coins(args.coins)] if args.coins else symbols_with_models(registry)
    )
    if not symbols:
        raise ModelNotFoundError(
            "No trained models yet: train a coin first (`python -m core train --coins BTC`)."
        )
    warnings: list[str] = []
    if args.refresh:
        try:
            warnings += _refresh(symbols, "1h")
        except CryptoVoltError as exc:
            warnings.append(f"candles not refreshed: {exc}")
    signals, errors = compute_signals(registry, symbols, config=SignalConfig())
    if signals and not args.no_journal:
        journal.record(signals, source="cli")
    journal.resolve_stored()
    now = datetime.now(UTC)
    if args.json:
        print(json.dumps([s.to_dict() for s in signals], indent=2))
    else:
        headers = ["coin", "signal", "confidence", "price", "last candle (UTC)", "xgb p"]
        headers += ["lstm forecast", "agree", "models"]
        print(format_table(headers, [_row(s, now) for s in signals]))
        print(
            "\nconfidence = out-of-sample hit rate of the same rule for calls of this kind and "
            "strength, 'of N' = calls it rests on."
        )
    for line in warnings + [f"{sym}: {msg}" for sym, msg in errors.items()]:
        print(f"warning: {line}", file=sys.stderr)
    return 0 if signals or not errors else 1
