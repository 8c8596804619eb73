"""Benchmark: ten coins x the seed's two models, the local job queue vs Ray on this machine.

Run: ``.venv/bin/python bench/bench_scale.py [--epochs 5] [--workers 2] [--executors local,ray]``
(writes only into a temp home folder; prints Markdown). Needs Ray (requirements-ray.txt).

What it measures (issue 10):

- the wall time of the same ten training jobs (the nine bundled sample coins and BTC again as
  the tenth, POL not being in the sample; kinds ``xgboost`` and ``lstm``) through the local queue
  (``--workers`` slots) and as Ray tasks on a local Ray with ``--workers`` CPUs; the target is
  the same wall within 15%;
- the overhead per Ray task: a no-op task in a fresh worker (``max_calls=1``, as every job gets),
  one at a time, and the Ray instance's start;
- how the wall would scale with workers: the jobs are independent, so with W workers it is the
  longest-processing-time schedule of the measured job times (never below the longest job) plus
  the per-task overhead; projected from this run's job times, not measured beyond ``--workers``.

Small settings, stated in the output: LSTM ``--epochs`` (default 5) with the default patience;
XGBoost at its defaults (150 trees, depth 6, walk-forward folds).
"""

from __future__ import annotations

import argparse
import heapq
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="cryptovolt-bench-scale-")

from core import config, jobs  # noqa: E402
from core.jobs import ray_executor  # noqa: E402
from tests.homes import env_home, env_runs  # noqa: E402

COINS = ("BTC", "ETH", "SOL", "XRP", "ADA", "AVAX", "LINK", "UNI", "DOT", "BTC")


def _seconds(start: str | None, end: str | None) -> float:
    if not start or not end:
        return float("nan")
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def _specs(epochs: int) -> list[jobs.JobSpec]:
    return [s for c in COINS for s in jobs.make_specs([c], models="seed", epochs=epochs)]


def _wait(ids: list[str]) -> list[jobs.JobStatus]:
    while True:
        found = [jobs.status(i, runs=env_runs()) for i in ids]
        if all(s.finished for s in found):
            return found
        time.sleep(1.0)


def run_local(epochs: int) -> tuple[float, list[jobs.JobStatus]]:
    started = time.monotonic()
    ids = [jobs.launch(spec, home=env_home()) for spec in _specs(epochs)]
    found = _wait(ids)
    return time.monotonic() - started, found


def run_ray(epochs: int) -> tuple[float, list[jobs.JobStatus]]:
    started = time.monotonic()
    ids = [jobs.prepare(spec, executor="ray", home=env_home()) for spec in _specs(epochs)]
    final = ray_executor.run(ids)
    return time.monotonic() - started, list(final.values())


def task_overhead(workers: int, n: int = 10) -> tuple[float, float, float]:
    """(seconds to start a local Ray, median and max seconds of a no-op task in a fresh worker)."""
    import ray

    started = time.monotonic()
    ray_executor.connect(None, home=config.home())
    boot = time.monotonic() - started

    @ray.remote(num_cpus=1, max_calls=1, max_retries=0)
    def noop() -> int:
        return os.getpid()

    ray.get(noop.remote())  # the first worker start also loads Ray's worker code
    times = []
    for _ in range(n):
        t0 = time.monotonic()
        ray.get(noop.remote())
        times.append(time.monotonic() - t0)
    ray.shutdown()
    return boot, statistics.median(times), max(times)


def schedule(durations: list[float], workers: int, overhead: float) -> float:
    """Wall of independent tasks on ``workers``: longest-first onto the least-loaded worker."""
    loads = [0.0] * workers
    for d in sorted(durations, reverse=True):
        heapq.heapreplace(loads, loads[0] + d + overhead)
    return max(loads)


def _table(name: str, wall: float, found: list[jobs.JobStatus]) -> list[float]:
    print(f"\n### {name}: wall {wall:.0f} s\n")
    print("| job | coin | state | waited (s) | ran (s) | xgboost (s) | lstm (s) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|---|---|")
    ran = []
    for i, s in enumerate(found, start=1):
        fit = {r.get("model_type"): r.get("train_seconds") for r in s.result}
        took = _seconds(s.started_at, s.finished_at)
        ran.append(took)
        print(
            f"| {i} | {s.symbol} | {s.state.value} | {_seconds(s.created_at, s.started_at):.0f} "
            f"| {took:.0f} | {fit.get('xgboost', '-')} | {fit.get('lstm', '-')} | "
            f"{s.peak_rss_mb} |"
        )
        if s.error:
            print(f"  error: {s.error}")
    return ran


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="LSTM epochs (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="slots / Ray CPUs (default 2)")
    parser.add_argument("--executors", default="local,ray")
    args = parser.parse_args()
    os.environ["CRYPTOVOLT_JOB_SLOTS"] = str(args.workers)
    raw = config.Paths(config.home()).raw
    raw.mkdir(parents=True, exist_ok=True)
    for path in config.sample_dir().glob("*-1h.parquet"):
        shutil.copy(path, raw / path.name)
    print(
        f"home {config.home()}; 10 jobs x (xgboost, lstm --epochs {args.epochs}); "
        f"{args.workers} workers, {os.cpu_count()} cores; load average before "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )
    walls: dict[str, float] = {}
    runs: dict[str, list[float]] = {}
    for name in args.executors.split(","):
        wall, found = (run_local if name == "local" else run_ray)(args.epochs)
        walls[name] = wall
        runs[name] = _table(
            f"{name} ({'job queue' if name == 'local' else 'Ray tasks'})", wall, found
        )
        print(f"load average after {name}: {os.getloadavg()[0]:.2f}", flush=True)
    met = True
    if {"local", "ray"} <= set(walls):
        ratio = walls["ray"] / walls["local"]
        met = abs(ratio - 1) <= 0.15
        verdict = "met" if met else "NOT met"
        print(f"\nRay wall / local wall: {ratio:.3f} (target within 15%: {verdict})")
    boot, median, worst = task_overhead(args.workers)
    print(
        f"\nRay overhead: local Ray start {boot:.1f} s; a no-op task in a fresh worker "
        f"(max_calls=1) median {median:.2f} s, max {worst:.2f} s"
    )
    durations = runs.get("ray") or runs.get("local") or []
    longest = max(durations) if durations else float("nan")
    print(f"\nProjected wall by workers (longest job {longest:.0f} s + {median:.2f} s per task):\n")
    print("| workers | projected wall (s) |")
    print("|---|---|")
    for w in (1, 2, 4, 5, 10, 20):
        print(f"| {w} | {schedule(durations, w, median):.0f} |")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
