"""``python -m core fetch``: download or top up candles, with a progress bar and coverage table.

Defaults as the Data page: the ten default coins, 1h, 730 days. Only missing candles are fetched
(the tail after the last stored one, and the head when the range reaches further back). Exit code 0
when every coin ended up to date or partial, 1 with a one-line reason when any coin failed or is in
conflict. Each failed coin also gets a line saying how old its stored candles are. New candles
that do not fit the stored ones (a price jump where they meet, or stored hours that disagree:
:mod:`core.data.seam`) are not stored: they are held in quarantine, the coin's status is
``conflict`` (red on a terminal) and a ``conflict:`` line says what was found and how to choose
(``python -m core data resolve``).
Without ``--background`` the fetch is a job run in this terminal (:func:`core.jobs.runner.run_here`,
the work a background fetch job runs): ``job list`` shows it, ``job cancel`` or Ctrl-C stops it
after the pages in hand (what was stored stays; a rerun goes on where it stopped; exit 130).
``--background`` launches the fetch as a job instead (as the Data page does) and prints its id.
``--json`` prints one JSON object instead of the table and sentences (:func:`result_json`), with
the same exit code and ``error:`` line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import pandas as pd

from core.cli._common import ProgressBar, format_table
from core.config import Interval, Paths
from core.data.coins import parse_coins
from core.data.fetch import load_sample
from core.data.fetch_status import FetchEvent, FetchResult, FetchStatus, failure_sentence
from core.data.quarantine import pending
from core.jobs.fetch_job import FetchSpec

__all__ = ["coverage_table", "human_size", "register", "result_json", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "fetch",
        help="download Binance candles (only what is missing) or load the bundled sample",
        description=(
            "Download closed Binance klines into data/raw/{SYMBOL}-{interval}.parquet under the "
            "home folder (CRYPTOVOLT_HOME). A rerun fetches only what is missing, so an "
            "interrupted fetch resumes where it stopped. Base URL: --base-url, else "
            "BINANCE_BASE_URL, else https://api.binance.com."
        ),
    )
    parser.add_argument(
        "--coins", default="all", help="comma-separated coins, e.g. BTC,ETH (default: the ten)"
    )
    parser.add_argument("--days", type=int, default=730, help="days back from now (default 730)")
    parser.add_argument(
        "--interval", default="1h", help="Binance kline interval: 1m ... 1w (default 1h)"
    )
    parser.add_argument(
        "--base-url", default=None, help="e.g. https://data-api.binance.vision (451 elsewhere)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="most requests in flight, 1-64 (default: as many as Binance's weight budget "
        "allows, up to 32)",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="load the bundled real sample (9 coins, 2024-05-01 to 2025-05-30) instead",
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="run as a background job (follow it with `python -m core job list`)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object for machines instead"
    )
    parser.set_defaults(func=run)


def human_size(size: int) -> str:
    """``1536`` → ``1.5 KB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def coverage_table(results: list[FetchResult], interval: str) -> str:
    """The coverage table printed at the end of a fetch."""
    missing = "missing hours" if interval == "1h" else "missing candles"
    headers = ["symbol", "rows", "first (UTC)", "last (UTC)", missing, "size", "status"]
    rows = []
    for r in results:
        cov = r.coverage
        fmt = "%Y-%m-%d %H:%M"
        rows.append(
            [
                r.symbol,
                f"{cov.rows:,}" if cov else "0",
                cov.first.strftime(fmt) if cov and cov.first is not None else "-",
                cov.last.strftime(fmt) if cov and cov.last is not None else "-",
                f"{cov.missing:,}" if cov else "-",
                human_size(cov.size_bytes) if cov and cov.size_bytes else "-",
                _red(r.status.value, r.status is FetchStatus.CONFLICT)
                + (f": {r.reason}" if r.reason else ""),
            ]
        )
    return format_table(headers, rows)


def result_json(results: list[FetchResult], interval: str, paths: Paths) -> dict[str, object]:
    """What ``fetch --json`` prints: per coin its status, the reason in words, the candles added
    and what is stored (times ISO 8601 UTC), and a conflict's sentence when candles were held
    back."""

    def iso(ts: pd.Timestamp | None) -> str | None:
        return None if ts is None else ts.isoformat()

    coins = []
    for r in results:
        cov = r.coverage
        held = (
            pending(r.symbol, interval, paths=paths) if r.status is FetchStatus.CONFLICT else None
        )
        coins.append(
            {
                "symbol": r.symbol,
                "status": r.status.value,
                "reason": r.reason,
                "new_rows": r.new_rows,
                "rows": cov.rows if cov else 0,
                "first": iso(cov.first) if cov else None,
                "last": iso(cov.last) if cov else None,
                "missing": cov.missing if cov else None,
                "size_bytes": cov.size_bytes if cov else 0,
                "note": r.note or None,
                "conflict": (held.sentence() if held else r.seam or r.reason)
                if r.status is FetchStatus.CONFLICT
                else None,
            }
        )
    ok = all(r.status not in (FetchStatus.FAILED, FetchStatus.CONFLICT) for r in results)
    return {
        "interval": interval,
        "ok": ok,
        "new_rows": sum(r.new_rows for r in results),
        "coins": coins,
    }


def _red(text: str, red: bool) -> str:
    """``text`` in red on a terminal (plain when piped, so scripts read the same words)."""
    return f"\033[31m{text}\033[0m" if red and sys.stdout.isatty() else text


class _Progress:
    """Collects events from fetch threads and redraws one overall bar."""

    def __init__(self) -> None:
        self.events: dict[str, FetchEvent] = {}
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.bar: ProgressBar | None = None

    def __call__(self, event: object) -> None:
        if not isinstance(event, FetchEvent):
            return
        with self.lock:
            self.events[event.symbol] = event
            expected = sum(e.expected for e in self.events.values())
            fetched = sum(e.fetched for e in self.events.values())
            downloaded = sum(e.downloaded for e in self.events.values())
            ended = sum(e.state not in ("queued", "fetching") for e in self.events.values())
            failed = sum(e.state == FetchStatus.FAILED.value for e in self.events.values())
            if self.bar is None:
                self.bar = ProgressBar(expected, "fetch")
            self.bar.total = max(expected, 1)
            rate = downloaded / max(time.monotonic() - self.started, 1e-6)
            left = (expected - fetched) / rate if rate > 0 else 0
            if ended == len(self.events):
                eta = "done"
            elif rate <= 0:
                eta = "starting"
            else:  # never "0 s left" while a coin is still waiting for Binance
                eta = f"{left:,.0f} s left" if left >= 1 else "finishing"
            self.bar.update(
                fetched,
                f"{ended - failed}/{len(self.events)} coins"
                + (f" ({failed} failed)" if failed else "")
                + f", {fetched:,}/{expected:,} candles, {rate:,.0f}/s, {eta}",
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _spec(args: argparse.Namespace, interval: str) -> FetchSpec:
    coins = tuple(c.symbol for c in parse_coins(args.coins))
    return FetchSpec(coins, interval, args.days, base_url=args.base_url, max_workers=args.workers)


def _launch(args: argparse.Namespace, interval: str) -> int:
    from core import jobs

    spec = _spec(args, interval)
    coins = list(spec.coins)
    job_id = jobs.launch(spec, home=args.context.home)
    if getattr(args, "json", False):
        print(json.dumps({"job": job_id, "coins": coins, "interval": interval, "days": args.days}))
        return 0
    print(f"fetch job {job_id}: {len(coins)} coin(s), {interval}, {args.days} days")
    print(f"Follow it with `python -m core job status {job_id}` (or the Data page).")
    return 0


def run(args: argparse.Namespace) -> int:
    interval = Interval.parse(args.interval).value
    if args.background and not args.sample:
        return _launch(args, interval)
    if args.sample:
        coins = None if args.coins in ("all", "", None) else args.coins.split(",")
        results = load_sample(coins, paths=args.context.paths)
        interval = "1h"
    else:
        from core.jobs.launcher import prepare
        from core.jobs.runner import JobCancelled, run_here

        spec = _spec(args, interval)  # checked before the job folder is written
        progress = _Progress()
        try:  # a job of its own, run here: listed, stopped by `job cancel` or Ctrl-C
            job_id = prepare(spec, home=args.context.home)
            results = run_here(job_id, spec, paths=args.context.paths, display=progress)
        except JobCancelled:
            progress.close()
            print(
                "fetch cancelled: the candles stored so far stay; run the same fetch again to "
                "go on where it stopped.",
                file=sys.stderr,
            )
            return 130
        finally:
            progress.close()
    if args.json:
        print(json.dumps(result_json(results, interval, args.context.paths), indent=2))
    else:
        _print_results(results, interval, args.context.paths)
    failed = [r for r in results if r.status in (FetchStatus.FAILED, FetchStatus.CONFLICT)]
    if failed:
        first = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        print(
            f"error: {len(failed)} of {len(results)} coin(s) {_ended(failed)}: {first.symbol}: "
            f"{first.reason}{more}",
            file=sys.stderr,
        )
        return 1
    return 0


def _print_results(results: list[FetchResult], interval: str, paths: Paths) -> None:
    print(coverage_table(results, interval))
    for r in results:
        if r.note:
            print(f"note: {r.symbol}: {r.note}")
    for r in results:
        if r.status is FetchStatus.FAILED:
            last = r.coverage.last if r.coverage else None
            print(failure_sentence(r.symbol, r.reason, last, interval))
    for r in results:
        if r.status is FetchStatus.CONFLICT:
            held = pending(r.symbol, interval, paths=paths)
            print(_red("conflict: ", True) + (held.sentence() if held else f"{r.seam} {r.reason}"))
    new = sum(r.new_rows for r in results)
    print(f"{new:,} new candle(s) stored.")


def _ended(bad: list[FetchResult]) -> str:
    kinds = {r.status for r in bad}
    if kinds == {FetchStatus.CONFLICT}:
        return "not stored (conflict: resolve with `python -m core data resolve`)"
    return "failed" if kinds == {FetchStatus.FAILED} else "failed or in conflict"
