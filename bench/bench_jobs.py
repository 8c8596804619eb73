"""Benchmark: every coin, all models, default settings, through the background job queue.

Run: ``.venv/bin/python bench/bench_jobs.py [--length sample|two-years] [--slots N]
[--models all|seed|kinds]`` (writes only into a temp home folder; prints a Markdown table).

What it measures (issue 4, item 7, and issue 9: all ten coins with all models through the job
queue, <= 10 min wall on this 2-core machine; peak memory of a training process recorded). The
default kinds are ``xgb_direction``, ``lstm_return``, ``xgboost`` and ``lstm``; ``--models seed``
trains the seed's two (``xgboost``, ``lstm``) as the issue-4 runs did.

- ``--length sample`` (default): the nine bundled sample coins as they are (about 9,457 hourly
  candles each, ADA 8,332). POL is not in the sample, so the tenth job trains BTC a second time,
  which stands in for the tenth coin's work.
- ``--length two-years``: the same ten jobs, each coin extended to 17,500 candles (two years, the
  product's real size) by appending time-shifted copies that continue its price, as
  ``bench/bench_features.py`` does.

Wall time runs from the first launch to the last job's end; each job's peak memory is its
process's ``ru_maxrss`` (recorded by the job runner in ``status.json``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="cryptovolt-bench-jobs-")

from _candles import two_years  # noqa: E402

from core import config, jobs  # noqa: E402
from core.data.store import load_candles, save_candles  # noqa: E402
from core.registry.model_registry import ModelRegistry  # noqa: E402

SAMPLE_COINS = ("BTC", "ETH", "SOL", "XRP", "ADA", "AVAX", "LINK", "UNI", "DOT")


def prepare(length: str) -> None:
    raw = config.Paths(config.home()).raw
    raw.mkdir(parents=True, exist_ok=True)
    for path in config.sample_dir().glob("*-1h.parquet"):
        shutil.copy(path, raw / path.name)
    if length == "two-years":
        for coin in SAMPLE_COINS:
            save_candles(two_years(load_candles(coin)), coin)


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", choices=("sample", "two-years"), default="sample")
    parser.add_argument("--slots", type=int, help="jobs at once (default: the queue's own choice)")
    parser.add_argument("--models", default="all", help="all (default), seed, or kinds")
    args = parser.parse_args()
    if args.slots:
        os.environ["CRYPTOVOLT_JOB_SLOTS"] = str(args.slots)
    prepare(args.length)
    coins = [*SAMPLE_COINS, "BTC"]  # POL is not in the sample: BTC again stands in for it
    rows = {c: len(load_candles(c)) for c in dict.fromkeys(coins)}
    specs = [spec for coin in coins for spec in jobs.make_specs([coin], models=args.models)]
    kinds = specs[0].models
    print(
        f"home {config.home()}; {len(specs)} jobs of {', '.join(kinds)}; "
        f"{jobs.slot_count()} at once, {os.cpu_count()} cores; "
        f"load average before: {os.getloadavg()[0]:.2f}",
        flush=True,
    )

    started = time.monotonic()
    ids = [jobs.launch(spec) for spec in specs]
    while True:
        found = [jobs.status(i) for i in ids]
        if all(s["state"] not in jobs.ACTIVE_STATES for s in found):
            break
        time.sleep(1.0)
    wall = time.monotonic() - started

    registry = ModelRegistry()
    fits = " | ".join(f"{kind} (s)" for kind in kinds)
    print(
        f"\n| job | coin | candles | state | queued (s) | ran (s) | {fits} | gates passed "
        "| peak RSS (MB) |"
    )
    print("|---|---|---|---|---|---|" + "---|" * len(kinds) + "---|---|")
    peaks = []
    for i, status in enumerate(found, start=1):
        results = status.get("result") or []
        times = {r["model_type"]: r.get("train_seconds") for r in results}
        passed = sum(registry.record(r["name"], r["version"]).gates_passed for r in results)
        queued = _seconds(status.get("created_at"), status.get("started_at"))
        ran = _seconds(status.get("started_at"), status.get("finished_at"))
        peak = status.get("peak_rss_mb")
        peaks.append(peak or 0)
        symbol = status["symbol"]
        per_kind = " | ".join(str(times.get(kind, "-")) for kind in kinds)
        print(
            f"| {i} | {symbol} | {rows.get(symbol.removesuffix('USDT'), '?'):,} | "
            f"{status['state']} | {queued:.0f} | {ran:.0f} | {per_kind} | "
            f"{passed}/{len(results)} | {peak} |"
            if queued is not None and ran is not None
            else f"| {i} | {symbol} | - | {status['state']} | - | - | {per_kind} | - | {peak} |"
        )
        if status["state"] != "succeeded":
            print(f"  error: {status.get('error')}")
    print(
        f"\nwall time, first launch → last job done: {wall:.0f} s ({wall / 60:.1f} min); "
        f"target <= 600 s: {'met' if wall <= 600 else 'NOT met'}"
    )
    print(f"peak memory of one training process: max {max(peaks):.0f} MB")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0 if all(s["state"] == "succeeded" for s in found) else 1


if __name__ == "__main__":
    raise SystemExit(main())
