"""``python -m core tune``: an Optuna sweep on one coin and kind, then train the best settings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.config import TargetConfig
from core.errors import ConfigError
from core.jobs.spec import SETTINGS

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
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


def _status(spec: Any, as_json: bool) -> int:
    from core.cli._common import format_table
    from core.tuning import read_state, storage_path, trials_frame

    found = read_state(spec.study) or {"study": spec.study, "state": "never run"}
    frame = trials_frame(spec.study)
    if as_json:
        rows = json.loads(frame.to_json(orient="records"))
        print(json.dumps({**found, "trials_table": rows}, indent=2, default=str))
        return 0
    print(f"study {spec.study}: {found.get('state')} ({storage_path(spec.study)})")
    if found.get("error"):
        print(f"error: {found['error']}")
    if not frame.empty:
        frame = frame.round(4)
        rows = frame.astype(object).where(frame.notna(), "").values.tolist()
        print(format_table(list(frame.columns), rows))
    return 0


def _trial_line(study: Any, trial: Any) -> None:
    state = trial.state.name.lower()
    value = f"skill {trial.value:+.4f}" if state == "complete" else state
    try:
        best = f"best {study.best_value:+.4f} (trial {study.best_trial.number})"
    except ValueError:
        best = "no trial completed yet"
    params = " ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in trial.params.items()
    )
    print(f"trial {trial.number}: {value}; {best}; {params}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from core.tuning import counts, run_sweep
    from core.tuning.sweeps import cancel_sweep

    if args.address and args.executor != "ray":
        raise ConfigError("--address is for --executor ray (the Ray cluster to run on).")
    if args.resume and args.fresh:
        raise ConfigError("--resume continues a study and --fresh deletes it: pick one.")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one line per trial is ours
    spec = _spec(args)
    if args.status:
        return _status(spec, args.json)
    if args.cancel:
        found = cancel_sweep(spec.study)
        print(f"study {spec.study}: {(found or {}).get('state', 'never run')}")
        return 0
    from core.jobs import refuse_busy

    refuse_busy([spec.symbol], study=spec.study)  # one job per coin: not beside a training
    if args.executor == "ray":
        from core.jobs.ray_executor import check

        check(args.address)
    study, result = run_sweep(
        spec,
        resume=args.resume,
        fresh=args.fresh,
        executor=args.executor,
        address=args.address,
        train=not args.no_train,
        on_trial=_trial_line,
    )
    found = counts(study)
    print(
        f"study {spec.study}: {found['finished']} finished trials "
        f"({found.get('complete', 0)} complete, {found.get('pruned', 0)} pruned, "
        f"{found.get('fail', 0)} failed); best skill {study.best_value:+.4f} "
        f"(trial {study.best_trial.number}): {study.best_trial.params}"
    )
    if result is not None:
        record = result.metadata
        role = "champion" if result.promoted else "challenger"
        print(f"registered {record.name} {record.version} ({role}): {record.verdict()}.")
        print(result.promotion)
    return 0
