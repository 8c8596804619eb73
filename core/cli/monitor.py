"""``python -m core monitor``: are the live calls keeping the card's promise, and has the input
drifted? A status per coin, as a table or JSON (:func:`core.monitor.assess`).

Read-only: the journal is not written. Calls the journal has not resolved yet are judged on the
stored candles; run ``python -m core watch`` (or open the Signals page) to make calls.
"""

from __future__ import annotations

import argparse
import json

from core.cli._common import format_table
from core.data.coins import parse_coins
from core.monitor import BANDS, CoinHealth, MonitorConfig, assess
from core.monitor.drift import RULE

__all__ = ["register", "run"]

_WORDS = {"on_track": "on track", "degraded": "DEGRADED", "not_enough_calls": "not enough calls"}
_VOL_WORDS = {"degraded": "bands OFF their promise (above)", "on_track": "bands on track"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "monitor",
        help="forward-test status per coin (on track / degraded / not enough calls) and drift",
        description=(
            "Judge each coin's journalled calls: live hit rate per kind of call (95%% Wilson "
            "interval) beside the rate promised at call time, over the last 7 and 30 days; live "
            "log loss beside the base rate's for probability models; the expected-move bands' "
            "live coverage beside their promised level, and live QLIKE beside the baselines; "
            "and the population "
            f"stability index of each input over the last 7 days against the training window "
            f"({BANDS.replace('%', '%%')}). Degraded: a kind of call below its promise, or a "
            "voting model whose live log loss is not below its base rate's, or a band whose "
            "coverage interval excludes its promised level."
        ),
    )
    parser.add_argument(
        "--coins",
        default=None,
        help="comma-separated coins (default: every coin in the journal or with a trained model)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list for machines")
    parser.set_defaults(func=run)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _rates(health: CoinHealth, days: int) -> str:
    if not health.versions:
        return "-"
    parts = []
    for r in health.versions[-1].rates:
        if r.days == days and r.calls:
            parts.append(
                f"{r.kind} {_pct(r.rate)} of {r.calls} (promised {_pct(r.promised_low)}–"
                f"{_pct(r.promised_high)})"
            )
    return "; ".join(parts) or "-"


def _row(health: CoinHealth, cfg: MonitorConfig) -> list[object]:
    return [
        health.symbol,
        _WORDS.get(health.status, health.status),
        health.calls,
        health.pending,
        health.drifted,
        _rates(health, cfg.windows[0]),
    ]


def _volatility_lines(health: CoinHealth) -> list[str]:
    """The coin's expected-move record: its verdict, coverage per band, QLIKE per horizon."""
    vol = health.volatility
    if vol is None:
        return []
    # The reason is already the coin's when the bands degrade it.
    why = _VOL_WORDS.get(vol.status, vol.status) if vol.reason in health.reason else vol.reason
    lines = [f"expected move ({vol.matured} matured, {vol.pending} pending): {why}"]
    for c in vol.coverage:
        interval = "" if c.low is None else f" [{c.low:.0%}, {c.high:.0%}]"
        flag = " OUTSIDE" if c.outside else "" if c.judged else " (too few to judge)"
        lines.append(
            f"  {c.horizon} {c.level}% band: covered {_pct(c.rate)}{interval} of {c.forecasts}"
            f"{flag}"
        )
    for s in vol.skill:
        best = s.best_baseline
        beside = "" if best is None else f" vs {best} {s.baselines[best]:.3f}"
        value = "n/a" if s.qlike is None else f"{s.qlike:.3f}"
        lines.append(f"  {s.horizon} live QLIKE {value}{beside} ({s.forecasts} forecasts)")
    if vol.skill_note:
        lines.append(f"  live QLIKE {vol.skill_note}")
    return lines


def run(args: argparse.Namespace) -> int:
    symbols = [c.symbol for c in parse_coins(args.coins)] if args.coins else None
    cfg = MonitorConfig()
    found = assess(symbols, home=args.context.home, config=cfg, now=args.context.now())
    if args.json:
        print(json.dumps([h.to_dict() for h in found], indent=2, default=str))
        return 0
    if not found:
        print(
            "No journal entries and no trained models yet: train a coin, then run "
            "`python -m core watch` or open the Signals page to make calls."
        )
        return 0
    headers = [
        "coin",
        "status",
        f"calls ({cfg.status_days} d)",
        "pending",
        "drifted",
        f"live hit rate ({cfg.windows[0]} d)",
    ]
    print(format_table(headers, [_row(h, cfg) for h in found]))
    print()
    for h in found:
        print(f"{h.symbol}: {h.reason}")
        if h.drift is not None:
            names = ", ".join(h.drift.drifted[:8]) + (" ..." if len(h.drift.drifted) > 8 else "")
            drift = f"{h.drifted} drifted inputs ({names})" if h.drifted else "no drifted input"
            if not h.drift.measured:
                drift = "not measured"
            print(
                f"  drift over the last {cfg.drift_days} days: {drift}"
                + (f"; {h.drift.note.removeprefix('not measured: ')}" if h.drift.note else "")
            )
        if h.volatility is not None and h.volatility.status != "no_forecasts":
            for line in _volatility_lines(h):
                print(f"  {line}")
    print(f"\nDrift bands: {BANDS}; {RULE}.")
    return 0
