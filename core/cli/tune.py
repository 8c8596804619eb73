"""``python -m core tune``: an Optuna sweep on one coin and kind, then train the best settings."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.config import TargetConfig
from core.errors import ConfigError
from core.jobs.spec import SETTINGS

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "tune",
        help="tune a model's settings with Optuna on walk-forward folds, then train the best",
        description=(
            "Run an Optuna study (stored in {home}/tuning/{study}.db) whose objective is the "
            "walk-forward skill inside the training period only: the test window is never seen "
            "by the tuner. The best settings then train a normal registered version whose card "
            "records the study, the number of trials and the search space. Settings given as "
            "flags are held fixed; the rest of the kind's search space is searched."
        ),
    )
    parser.add_argument("--coin", required=True, help="one coin, e.g. BTC")
    parser.add_argument("--model", required=True, help="a kind: xgb / xgboost, xgb_direction, ...")
    parser.add_argument("--trials", type=int, default=50, help="finished trials (default 50)")
    parser.add_argument("--interval", default="1h", help="candle interval (default 1h)")
    parser.add_argument("--study", default="", help="study name (default KIND_SYMBOL_INTERVAL)")
    parser.add_argument("--resume", action="store_true", help="continue a stored study")
    parser.add_argument("--fresh", action="store_true", help="delete a stored study, start over")
    parser.add_argument("--executor", choices=("local", "ray"), default="local")
    parser.add_argument("--address", help="with --executor ray: ray://HOST:10001 or auto")
    parser.add_argument("--no-train", action="store_true", help="only run the trials")
    parser.add_argument(
        "--background",
        action="store_true",
        help="start the sweep as a background job and return (see `python -m core job list`)",
    )
    parser.add_argument("--cancel", action="store_true", help="stop a running sweep of the study")
    parser.add_argument("--status", action="store_true", help="show the study's trials and state")
    parser.add_argument("--json", action="store_true", help="with --status: JSON")
    group = parser.add_argument_group("held fixed (left out of the search)")
    group.add_argument("--horizon", type=int, help="target: candles ahead (default 6)")
    group.add_argument("--threshold", type=float, help="target: rise as a fraction (0.01 = 1%%)")
    for key, (stage, _) in SETTINGS.items():
        if stage == "model":
            group.add_argument(f"--{key.replace('_', '-')}", dest=key, type=int)
    parser.set_defaults(func=run)


def _spec(args: argparse.Namespace) -> Any:
    from core.tuning import TuneSpec

    target = {k: v for k, v in (("horizon", args.horizon), ("threshold", args.threshold)) if v}
    fixed = {
        name: getattr(args, key)
        for key, (stage, name) in SETTINGS.items()
        if stage == "model" and getattr(args, key) is not None
    }
    return TuneSpec(
        args.coin,
        args.model,
        trials=args.trials,
        interval=args.interval,
        target=TargetConfig(**target),
        fixed=fixed,
        study=args.study,
    )


def _status(spec: Any, home: Path, as_json: bool) -> int:
    from core.cli._common import format_table
    from core.jobs.tune_job import sweep_status
    from core.tuning import storage_path, trials_frame

    found = sweep_status(spec.study, home=home)
    state = "never run" if found is None else found.state.value
    frame = trials_frame(home, spec.study)
    if as_json:
        rows = json.loads(frame.to_json(orient="records"))
        record = {"study": spec.study, "state": state}
        if found is not None:
            record = {**found.to_dict(), **record}
        print(json.dumps({**record, "trials_table": rows}, indent=2, default=str))
        return 0
    print(f"study {spec.study}: {state} ({storage_path(home, spec.study)})")
    if found is not None and found.error:
        print(f"error: {found.error}")
    if not frame.empty:
        frame = frame.round(4)
        rows = frame.astype(object).where(frame.notna(), "").values.tolist()
        print(format_table(list(frame.columns), rows))
    return 0


@contextlib.contextmanager
def _trial_lines() -> Iterator[None]:
    """The sweep's lines (one per trial) on stderr while it runs in the foreground."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("core.jobs.tune_job")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _report(final: Any) -> int:
    """Print how a foreground sweep ended; returns the exit code."""
    from core.jobs import JobState

    if final.state is JobState.CANCELLED:
        print(f"study {final.extra.get('study')}: cancelled", file=sys.stderr)
        return 130
    if final.state is not JobState.SUCCEEDED:
        print(f"error: {final.error}", file=sys.stderr)
        return 1
    sweep = final.sweep
    found = sweep.trials_by_state
    print(
        f"study {sweep.study}: {sweep.finished} finished trials "
        f"({found.get('complete', 0)} complete, {found.get('pruned', 0)} pruned, "
        f"{found.get('fail', 0)} failed); best skill {sweep.best_value:+.4f} "
        f"(trial {sweep.best_trial}): {sweep.best_params}"
    )
    for result in final.result:
        role = "champion" if result.promoted else "challenger"
        print(f"registered {result.name} {result.version} ({role}): {result.verdict}.")
        print(result.promotion)
    return 0


def run(args: argparse.Namespace) -> int:
    from core import jobs
    from core.jobs.tune_job import TuneJob, cancel_sweep

    if args.address and args.executor != "ray":
        raise ConfigError("--address is for --executor ray (the Ray cluster to run on).")
    if args.resume and args.fresh:
        raise ConfigError("--resume continues a study and --fresh deletes it: pick one.")
    spec = _spec(args)
    if args.status:
        return _status(spec, args.context.home, args.json)
    if args.cancel:
        found = cancel_sweep(spec.study, home=args.context.home)
        print(f"study {spec.study}: {'never run' if found is None else found.state.value}")
        return 0
    job = TuneJob(
        spec,
        resume=args.resume,
        fresh=args.fresh,
        train=not args.no_train,
        home=str(args.context.home),
    )
    if args.background:
        job_id = jobs.launch(
            job, home=args.context.home, executor=args.executor, address=args.address
        )
        print(f"{spec.symbol}: sweep {spec.study} as job {job_id}")
        print("Follow it with `python -m core job list` (or the Training page's Tuning section).")
        return 0
    if args.executor == "ray":
        from core.jobs.ray_executor import check

        check(args.address)
        job = dataclasses.replace(job, executor="ray", address=args.address)
    from core.jobs.runner import run_job

    paths = args.context.paths
    # the same job as in the background, run in this process
    job_id = jobs.prepare(job, home=args.context.home)
    with _trial_lines():
        run_job(job_id, jobs.read_spec(job_id, runs=paths.runs), paths=paths)
    return _report(jobs.status(job_id, runs=paths.runs))
