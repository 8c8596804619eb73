"""``python -m core train``: train coins in the foreground (progress bar) or as background jobs."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from typing import Any

from core import jobs
from core.cli._common import ProgressBar, format_table
from core.data.coins import parse_coins
from core.errors import ConfigError, CryptoVoltError
from core.models import kinds
from core.registry.gates import version_verdict

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train models per coin, card them against their baselines and register them",
        description=(
            "Train one coin after another in this terminal (or --background: one job per coin "
            "through the job queue). Every setting is checked before any work starts."
        ),
    )
    parser.add_argument(
        "--coins", default="all", help="comma-separated coins, e.g. BTC,ETH (default: all)"
    )
    parser.add_argument(
        "--models",
        default="all",
        help=f"comma-separated kinds: {', '.join(kinds())}; all (default) or seed (xgboost,lstm)",
    )
    parser.add_argument("--interval", default="1h", help="candle interval (default 1h)")
    parser.add_argument(
        "--pooled",
        action="store_true",
        help="train each kind's pooled form (e.g. vol_har -> vol_pooled_har): one model over "
        "every chosen coin's rows, inputs normalised per coin, registered per coin with its own "
        "card; one job for all the coins",
    )
    group = parser.add_argument_group(
        "settings (defaults: each kind's settings, core/models/settings.py)"
    )
    group.add_argument("--horizon", type=int, help="target: candles ahead (default 6)")
    group.add_argument("--threshold", type=float, help="target: rise as a fraction (0.01 = 1%%)")
    group.add_argument("--trees", type=int, help="boosted models: number of trees")
    group.add_argument("--depth", type=int, help="boosted models: tree depth")
    group.add_argument("--window", type=int, help="LSTMs: candles per input sequence")
    group.add_argument("--units", type=int, help="LSTMs: units per layer")
    group.add_argument("--epochs", type=int, help="LSTMs: maximum epochs")
    group.add_argument("--batch-size", type=int, help="LSTMs: batch size")
    group.add_argument("--patience", type=int, help="LSTMs: early-stopping patience (0 = off)")
    parser.add_argument(
        "--force",
        action="store_true",
        help="promote every new version even if its gates fail or it does not beat the champion",
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="launch one background job per coin and return (see `python -m core job list`)",
    )
    parser.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: this machine's job queue (default); ray: one Ray task per coin "
        "(pip install -r requirements-ray.txt)",
    )
    parser.add_argument(
        "--address",
        help="with --executor ray: the cluster, e.g. ray://HOST:10001 or auto "
        "(default: start a local Ray sized to this machine)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: each new version (gates, role, verdict, metrics), failures",
    )
    parser.set_defaults(func=run)


def _specs(args: argparse.Namespace) -> list[jobs.JobSpec]:
    settings = {key: getattr(args, key) for key in jobs.SETTINGS}
    coins = [c.symbol for c in parse_coins(args.coins)]
    if args.coins.strip().lower() in {"", "all"}:
        from core.data.store import list_stored

        # "all" means every default coin that has data, so one missing coin does not stop the rest
        stored = {s for s, i in list_stored(paths=args.context.paths) if i == args.interval}
        coins = [c for c in coins if c in stored] or coins
    specs = jobs.make_specs(
        coins,
        models=args.models,
        interval=args.interval,
        force=args.force,
        pooled=args.pooled,
        **settings,
    )
    for spec in specs:
        for symbol in spec.pool or (spec.symbol,):
            jobs.require_data(replace(spec, symbol=symbol), paths=args.context.paths)
    return specs


class _Progress:
    """One progress bar per (model, stage) of a coin; while it waits for a slot, one line saying
    what holds the slots (again only when that changes)."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bar: ProgressBar | None = None
        self.key: tuple[Any, ...] | None = None
        self.waiting = ""
        #: When training began (after any wait for a slot): the table's time is the training's.
        self.began: float | None = None

    def __call__(self, event: Any) -> None:
        if isinstance(event, str):  # waiting for a training slot, in words
            if event != self.waiting:
                self.waiting = event
                print(f"{self.symbol}: {event}; Ctrl-C to stop", file=sys.stderr, flush=True)
            return
        if self.began is None:
            self.began = time.monotonic()
        model = str(getattr(event.model, "value", event.model) or "")
        stage = str(getattr(event.stage, "value", event.stage))
        # a stage may hold nested loops (folds, then rounds/epochs within each): a bar per loop
        if (model, stage, event.total) != self.key:
            self.close()
            self.key = (model, stage, event.total)
            label = " ".join(p for p in (self.symbol, model, stage) if p)
            self.bar = ProgressBar(event.total or 1, label)
        assert self.bar is not None
        self.bar.update(event.step if event.total else 1, str(event.message or "")[:60])

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _headline(result: Any) -> str:
    from core.registry.names import headline_metrics

    return "  ".join(f"{k} {v}" for k, v in headline_metrics(result.metadata.metrics).items())


def _version_json(result: Any, coin: str, seconds: float | None) -> dict[str, Any]:
    """One new version as ``train --json`` prints it."""
    from core.registry.names import headline_metrics

    record = result.metadata
    return {
        "coin": coin,
        "name": record.name,
        "version": record.version,
        "seconds": None if seconds is None else round(seconds, 1),
        "gates_passed": bool(record.gates_passed),
        "promoted": bool(result.promoted),
        "verdict": version_verdict(record),
        "promotion": str(result.promotion),
        "metrics": headline_metrics(record.metrics),
        "notes": list(record.data.get("context_left_out", {}).values()),
    }


def _gates_word(record: Any) -> str:
    """EDGE / NO EDGE; for a volatility model the horizons whose every gate passed."""
    if not (record.card and record.card.output == "volatility"):
        return "EDGE" if record.gates_passed else "NO EDGE"
    passed = [key for key, h in record.volatility.items() if h.passed]
    return f"{'+'.join(passed)} pass" if passed else "NO SKILL"


def _run_on_ray(specs: list[jobs.JobSpec], args: argparse.Namespace) -> int:
    """Train ``specs`` as Ray jobs with this process as their driver, reporting as they go."""
    from core.jobs import ray_executor

    ray_executor.check(args.address)
    home = args.context.home
    job_ids = [
        jobs.prepare(spec, home=home, executor="ray", address=args.address) for spec in specs
    ]
    shown: dict[str, str] = {}

    def report() -> None:
        for job_id in job_ids:
            found = jobs.status(job_id, runs=args.context.paths.runs)
            line = f"{found.symbol}: {found.state.value} {jobs.describe_progress(found)}".strip()
            if shown.get(job_id) != line[:60]:
                shown[job_id] = line[:60]
                print(line[:120], file=sys.stderr, flush=True)

    final = ray_executor.run(job_ids, home=args.context.home, address=args.address, on_poll=report)
    rows: list[list[object]] = []
    for found in final.values():
        for item in found.result:
            edge = "EDGE" if item.gates_passed else "NO EDGE"
            role = "champion" if item.promoted else "challenger"
            rows.append([item.name, item.version, edge, role, found.job_id])
        if found.state is not jobs.JobState.SUCCEEDED:
            print(f"error: {found.symbol}: {found.state.value}: {found.error}", file=sys.stderr)
    if args.json:
        versions = [
            {
                "coin": found.symbol,
                "name": item.name,
                "version": item.version,
                "gates_passed": bool(item.gates_passed),
                "promoted": bool(item.promoted),
                "job": found.job_id,
            }
            for found in final.values()
            for item in found.result
        ]
        failed = {
            f.symbol: f"{f.state.value}: {f.error}"
            for f in final.values()
            if f.state is not jobs.JobState.SUCCEEDED
        }
        print(json.dumps({"ok": not failed, "versions": versions, "failed": failed}, indent=2))
    elif rows:
        print(format_table(["model", "version", "gates", "role", "job"], rows))
    return 0 if all(s.state is jobs.JobState.SUCCEEDED for s in final.values()) else 1


def run(args: argparse.Namespace) -> int:
    if args.address and args.executor != "ray":
        raise ConfigError("--address is for --executor ray (the Ray cluster to run on).")
    specs = _specs(args)
    # one job per coin, checked for all first (a pooled job's coins too)
    coins = list(dict.fromkeys(s for spec in specs for s in (spec.symbol, *spec.pool)))
    jobs.refuse_busy(coins, runs=args.context.paths.runs)
    if args.background:
        ids = jobs.launch_all(
            specs, home=args.context.home, executor=args.executor, address=args.address
        )
        if args.json:
            launched = [{"coin": sp.symbol, "job": i} for i, sp in zip(ids, specs, strict=True)]
            print(json.dumps({"jobs": launched, "executor": args.executor}, indent=2))
            return 0
        where = " (Ray)" if args.executor == "ray" else ""
        for job_id, spec in zip(ids, specs, strict=True):
            print(f"{spec.symbol}: job {job_id}{where}")
        print("Follow them with `python -m core job list` (or the Training page).")
        return 0
    if args.executor == "ray":
        return _run_on_ray(specs, args)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: no C++ chatter
    # it takes a slot like a launched job, and the same share of the cores
    os.environ.setdefault("CRYPTOVOLT_THREADS", str(jobs.threads_per_slot()))
    from core.jobs.runner import JobCancelled, train_here

    rows: list[list[object]] = []
    failed: list[str] = []
    verdicts: list[str] = []
    versions: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for spec in specs:
        started = time.monotonic()
        progress = _Progress(spec.symbol)
        # a job of its own, run here: `job list` shows it, `job cancel` stops it, one per coin
        try:
            job_id = jobs.prepare(spec, home=args.context.home)
            results = train_here(job_id, spec, paths=args.context.paths, progress=progress)
        except CryptoVoltError as exc:
            progress.close()
            print(f"error: {spec.symbol}: {exc}", file=sys.stderr)
            failed.append(spec.symbol)
            errors[spec.symbol] = str(exc)
            continue
        except JobCancelled:
            progress.close()
            print(f"{spec.symbol}: cancelled; versions registered before stay.", file=sys.stderr)
            return 130
        progress.close()
        elapsed = time.monotonic() - (progress.began or started)
        for result in results:
            versions.append(_version_json(result, result.metadata.symbol, elapsed))
            record = result.metadata
            edge = _gates_word(record)
            champion = "champion" if result.promoted else "challenger"
            rows.append(
                [record.name, record.version, f"{elapsed:.0f}s", edge, champion, _headline(result)]
            )
            verdicts.append(
                f"{record.name} {record.version}: {version_verdict(record)}. {result.promotion}."
            )
            for sentence in record.data.get("context_left_out", {}).values():
                verdicts.append(f"note: {record.name} {record.version}: {sentence}")
    if args.json:
        print(json.dumps({"ok": not failed, "versions": versions, "failed": errors}, indent=2))
    elif rows:
        headers = ["model", "version", "time", "gates", "role", "test metrics (baseline)"]
        print(format_table(headers, rows))
        print("\n".join(verdicts))
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
