"""``python -m core watch``: signals at every candle close, headless, until stopped.

The loop is :class:`core.live.watch.Watch`; this module parses the flags, logs to stderr as well
as ``logs/watch.log``, and stops cleanly on Ctrl-C or SIGTERM (``kill -9`` is safe too: a restart
writes nothing twice).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from core.clock import Clock, FileClock
from core.data.coins import parse_coins
from core.errors import ConfigError
from core.live.retrain import parse_age
from core.live.watch import Watch, WatchConfig

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="headless: top up, signal, journal and resolve a few seconds after each candle close",
        description=(
            "Runs a cycle at once and then a few seconds after every candle close: tops the "
            "candles up from Binance, computes every coin's signal, records it in the journal, "
            "judges the calls whose horizon passed, and raises alerts (logs/alerts.log, and "
            "$CRYPTOVOLT_ALERT_WEBHOOK when set). Logs to logs/watch.log. Safe to kill and restart."
        ),
    )
    parser.add_argument(
        "--coins", default=None, help="comma-separated coins (default: every coin with a model)"
    )
    parser.add_argument("--once", action="store_true", help="run one cycle and exit")
    parser.add_argument(
        "--json", action="store_true", help="with --once: print the cycle as one JSON object"
    )
    parser.add_argument("--interval", default="1h", help="candle interval to follow (default 1h)")
    parser.add_argument(
        "--delay", type=float, default=5.0, help="seconds after each close (default 5)"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="give up on an unreachable Binance within seconds (default: back off for ~15 s)",
    )
    parser.add_argument(
        "--retrain-if-stale",
        metavar="AGE",
        default=None,
        help="train a challenger (background job) when a champion is older than AGE, e.g. 7d",
    )
    parser.add_argument(
        "--retrain-if-degraded",
        action="store_true",
        help="train a challenger when the monitor calls a coin degraded",
    )
    parser.add_argument(
        "--clock-file",
        default=None,
        help="read the time from this file (one ISO 8601 line) instead of the clock: for tests",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.json and not args.once:
        raise ConfigError("--json prints one cycle: use it with --once (watch --once --json).")
    coins = tuple(c.symbol for c in parse_coins(args.coins)) if args.coins else None
    cfg = WatchConfig(
        coins=coins,
        interval=args.interval,
        delay=args.delay,
        patient=not args.quick,
        retrain_stale=parse_age(args.retrain_if_stale) if args.retrain_if_stale else None,
        retrain_degraded=args.retrain_if_degraded,
    )
    clock: Clock = FileClock(Path(args.clock_file)) if args.clock_file else args.context.clock
    stop = threading.Event()
    watch = Watch(cfg, clock=clock, stop=stop, home=args.context.home)
    echo = logging.StreamHandler(sys.stderr)
    echo.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    watch.log.addHandler(echo)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        last = watch.run(once=args.once)
    except KeyboardInterrupt:
        stop.set()
        print("watch stopped; journal and candles written so far are kept.", file=sys.stderr)
        return 0
    finally:
        watch.log.removeHandler(echo)
    if args.once and last is not None and args.json:
        print(json.dumps(dataclasses.asdict(last), indent=2, default=str))
        return 0 if last.ok else 1
    if args.once and last is not None:
        print(f"cycle at {last.at}: {'ok' if last.ok else 'failed: ' + last.why}")
        for symbol, kind in last.signals.items():
            print(f"  {symbol}: {kind}")
        print(f"  {last.recorded} new journal entries, {last.resolved} calls resolved")
        return 0 if last.ok else 1
    return 0
