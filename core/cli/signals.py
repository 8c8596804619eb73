"""``python -m core signals``: the live signal per coin, as a table or JSON.

The flow (top-up, signals, journal) is :func:`core.usecases.live_signals`; this module parses
the flags and prints. A coin whose new candles are held in quarantine (a conflict with the stored
ones) gets a ``conflict:`` line on stderr saying how to choose, and in ``--json`` a ``conflict``
sentence (``null`` when there is none). Every signal printed is recorded in the signal journal
(``{home}/journal/``), and journal entries whose horizon has passed are judged first.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

import pandas as pd

from core.api import payloads
from core.cli._common import format_table
from core.config import Interval, SignalConfig
from core.data.coins import parse_coins
from core.errors import ModelNotFoundError
from core.signals.ensemble import SignalKind
from core.signals.signal import Signal
from core.usecases import LiveSignals, live_signals
from core.verdict import CoinVerdict, untrained_symbols, untrained_verdict, verdicts
from core.volatility.live import move_words
from core.words import stale_words, training_words, vote_words

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "signals",
        help="live BULLISH / BEARISH / NEUTRAL (or NO EDGE) per coin with out-of-time confidence",
        description=(
            "Compute each trained coin's ensemble signal on its last closed candle. Only models "
            "whose gates pass vote; a coin with none shows NO EDGE and why. Confidence is the hit "
            "rate the same rule had on earlier out-of-sample calls (the walk-forward folds), with "
            "its 95%% Wilson interval, the number of calls it rests on and the base rate (how "
            "often the called outcome happened anyway); 'test window' is how such calls did later."
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
    parser.add_argument(
        "--vol-target",
        type=float,
        default=0.02,
        help="daily volatility the position size aims at (default 0.02 = 2%%)",
    )
    parser.set_defaults(func=run)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _age(signal: Signal, now: datetime) -> str:
    closed = signal.candle_time + pd.Timedelta(
        milliseconds=Interval.parse(signal.timeframe).milliseconds
    )
    hours = (pd.Timestamp(now) - closed).total_seconds() / 3600
    return f"{hours:.0f}h" if hours < 48 else f"{hours / 24:.0f}d"


def _members(signal: Signal) -> str:
    parts = []
    for v in signal.votes:
        if not v.passed:
            parts.append(f"{v.label}: no edge")
        elif signal.signal is SignalKind.STALE:
            parts.append(f"{v.label}: stale")
        elif v.vote is None or v.vote is SignalKind.NEUTRAL:
            parts.append(f"{v.label}: no view")
        else:
            parts.append(f"{v.label}: {v.vote.value}")
    return " · ".join(parts)


def _row(signal: Signal, now: datetime) -> list[object]:
    edge = signal.signal not in (SignalKind.NO_EDGE, SignalKind.STALE)
    low, high = signal.interval
    confidence = _pct(signal.confidence)
    if signal.confidence is not None and low is not None and high is not None:
        confidence += f" ({low:.0%}-{high:.0%})"
    test = f"{_pct(signal.test_hit_rate)} of {signal.test_support}" if signal.test_support else "-"
    return [
        signal.symbol,
        "NO EDGE" if signal.signal is SignalKind.NO_EDGE else signal.signal.value,
        confidence if edge else "-",
        f"{signal.support:,}" if edge else "-",
        _pct(signal.base_rate) if edge else "-",
        test if edge else "-",
        f"{signal.price:,.6g}",
        f"{signal.candle_time:%Y-%m-%d %H:%M} ({_age(signal, now)} old"
        + (", STALE)" if signal.stale else ")"),
        _members(signal),
    ]


def _explain(result: LiveSignals) -> list[str]:
    lines = []
    for signal in result.signals:
        if signal.signal is SignalKind.NO_EDGE:
            lines.append(
                f"{signal.symbol}: NO EDGE. No model of this coin beats its baselines out of "
                "sample, so nothing is called:"
            )
        elif signal.signal is SignalKind.STALE:
            lines.append(f"{signal.symbol}: {stale_words(signal)}")
        else:
            lines.append(f"{signal.symbol}: {signal.signal.value}: a hit means {signal.meaning}.")
        if signal.stale and signal.signal is SignalKind.NO_EDGE:
            lines.append(f"  {stale_words(signal)}")
        lines += [f"  - {vote_words(v, result.records.get(v.name))}" for v in signal.votes]
        lines += [f"  {line}" for line in move_words(signal)]
        window, warning = training_words(signal)
        if window:
            lines.append(f"  Training window: {window}.")
        if warning:
            lines.append(f"  warning: {warning}")
    return lines


def _verdict_lines(said: list[CoinVerdict]) -> list[str]:
    """The verdict first: one line per coin, its market context indented below."""
    lines = []
    for v in said:
        lines.append(v.line)
        if v.context is not None and v.context.words():
            lines.append(f"  market: {v.context.words()}")
    return lines


def run(args: argparse.Namespace) -> int:
    symbols = [c.symbol for c in parse_coins(args.coins)] if args.coins else None
    now = args.context.now().to_pydatetime()
    result = live_signals(
        symbols,
        home=args.context.home,
        config=SignalConfig(vol_target=args.vol_target),
        refresh=args.refresh,
        source=None if args.no_journal else "cli",
        now=now,
    )
    if not result.signals and not result.errors:
        raise ModelNotFoundError(
            "No trained models yet: train a coin first (`python -m core train --coins BTC`)."
        )
    said = verdicts(result.signals, result.records, paths=args.context.paths)
    if args.json:
        print(
            payloads.dumps(payloads.signals(result, paths=args.context.paths))
        )  # the same as GET /api/v1/signals
    elif result.signals:
        untrained = (
            []
            if args.coins
            else untrained_symbols([s.symbol for s in result.signals], paths=args.context.paths)
        )
        print("\n".join(_verdict_lines(said + [untrained_verdict(s) for s in untrained])))
        print()
        headers = ["coin", "signal", "confidence (95%)", "calls", "base rate", "test window"]
        headers += ["price", "last candle (UTC)", "models"]
        print(format_table(headers, [_row(s, now) for s in result.signals]))
        print()
        print("\n".join(_explain(result)))
        print(
            "\nconfidence = hit rate of the same rule on earlier out-of-sample calls of this kind "
            "and strength (95% interval); calls = how many it rests on; base rate = how often the "
            "called outcome happened anyway; test window = how such calls did later."
        )
    notes = list(result.top_up.notes) if result.top_up else []
    for line in notes:  # a conflict sentence is printed once, below
        if not line.startswith(tuple(result.conflicts)):
            print(line, file=sys.stderr)
    for conflict in result.conflicts.values():
        print(f"conflict: {conflict.sentence()}", file=sys.stderr)
    for symbol, message in result.errors.items():
        print(f"warning: {symbol}: {message}", file=sys.stderr)
    return 0 if result.signals or not result.errors else 1
