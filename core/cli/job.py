"""``python -m core job``: background jobs, training and fetching (list, status, log, cancel; run
is internal)."""

from __future__ import annotations

import argparse
import json
import sys

from core import jobs
from core.cli._common import format_table

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "job",
        help="background jobs (fetch, train, tune): list, status, log, cancel, restart",
        description=(
            "Background jobs under runs/{job_id}/ in the home folder (CRYPTOVOLT_HOME): training "
            "jobs launched by the Training page or `train --background`, fetch jobs launched by "
            "the Data page or `fetch --background`, sweeps launched by the Training page's Tuning "
            "section or `tune` (and the ray-driver job that watches training jobs on Ray)."
        ),
    )
    actions = parser.add_subparsers(dest="job_action", metavar="ACTION", required=True)
    p_run = actions.add_parser("run", help="(internal) run a launched job in this process")
    p_run.add_argument("job_id")
    p_list = actions.add_parser("list", help="every job, newest first")
    p_list.add_argument("--limit", type=int, default=20, help="show at most N jobs (default 20)")
    p_list.add_argument("--kind", choices=[k.value for k in jobs.JobKind], help="only this kind")
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_status = actions.add_parser("status", help="one job's full status")
    p_status.add_argument("job_id")
    p_status.add_argument("--json", action="store_true", help="print JSON")
    p_log = actions.add_parser("log", help="the last lines of a job's log")
    p_log.add_argument("job_id")
    p_log.add_argument("-n", "--lines", type=int, default=50)
    p_cancel = actions.add_parser("cancel", help="stop a queued or running job")
    p_cancel.add_argument("job_id")
    p_restart = actions.add_parser("restart", help="start a failed or cancelled job again")
    p_restart.add_argument("job_id")
    parser.set_defaults(func=run)


def _result(found: jobs.JobStatus) -> str:
    if found.kind is jobs.JobKind.FETCH:  # how the coins ended; the reasons are in `job status`
        return found.message.split(" (", 1)[0] if found.finished else ""
    if found.kind is jobs.JobKind.RAY_DRIVER:
        return found.message if found.finished else ""
    parts = []
    sweep = found.sweep
    if sweep is not None and sweep.best_value is not None:
        parts.append(f"best {sweep.best_value:+.4f} (trial {sweep.best_trial})")
    return "; ".join([*parts, ", ".join(r.label for r in found.result)] if found.result else parts)


def _row(found: jobs.JobStatus) -> list[object]:
    return [
        found.job_id,
        found.kind.value,
        found.subject,
        "damaged" if found.damage else found.state.value,
        jobs.describe_progress(found)[:70],
        _result(found)[:70],
    ]


def _as_json(found: jobs.JobStatus) -> dict[str, object]:
    return {**found.to_dict(), "damaged": found.damage} if found.damage else found.to_dict()


def _report_damage(found: list[jobs.JobStatus]) -> int:
    """One ``error:`` line per damaged job on stderr; 1 when there was any."""
    damaged = [s for s in found if s.damage]
    for status in damaged:
        print(f"error: {status.error}", file=sys.stderr)
    return 1 if damaged else 0


def run(args: argparse.Namespace) -> int:
    action = args.job_action
    paths = args.context.paths
    if action == "run":
        from core.jobs.runner import run_job

        spec = jobs.read_spec(args.job_id, runs=paths.runs)
        return run_job(args.job_id, spec, paths=paths)
    if action == "list":
        found = jobs.list_jobs(runs=paths.runs, limit=args.limit, kind=args.kind)
        if args.json:
            print(json.dumps([_as_json(s) for s in found], indent=2, default=str))
        elif not found:
            print(
                "No jobs yet. Start one: python -m core train --coins BTC --background, "
                "or python -m core fetch --background"
            )
        else:
            headers = ["job", "kind", "coin", "state", "progress", "result"]
            print(format_table(headers, [_row(s) for s in found]))
        return _report_damage(found)
    if action == "status":
        status = jobs.status(args.job_id, runs=paths.runs)
        if args.json:
            print(json.dumps(_as_json(status), indent=2, default=str))
        else:
            fields = {
                "job_id": status.job_id,
                "kind": status.kind.value,
                "coin": status.subject,
                "state": "damaged" if status.damage else status.state.value,
                "started_at": status.started_at,
                "finished_at": status.finished_at,
                "pid": status.pid,
            }
            for key, value in fields.items():
                print(f"{key:12} {value or '-'}")
            print(f"{'progress':12} {jobs.describe_progress(status)}")
            if status.sweep is not None:
                sweep = status.sweep
                print(f"{'study':12} {sweep.study}: {sweep.finished} finished trials")
                if sweep.best_value is not None:
                    best = f"{sweep.best_value:+.4f} (trial {sweep.best_trial})"
                    print(f"{'best':12} {best} {sweep.best_params}")
            for result in status.result:
                print(f"{'model':12} {result.label}")
            for coin in status.coins:
                reason = f": {coin.message}" if coin.message else ""
                stored = f", stored {coin.new_rows:,} new candles" if coin.new_rows else ""
                line = f"{coin.fetched:,}/{coin.expected:,} {coin.state}{stored}{reason}"
                print(f"{coin.symbol:12} {line}")
        if _report_damage([status]):
            return 1
        return 0 if status.state is not jobs.JobState.FAILED else 1
    if action == "log":
        print(jobs.tail_log(args.job_id, args.lines, runs=paths.runs))
        return 0
    if action == "restart":
        new_id = jobs.restart(args.job_id, home=args.context.home)
        print(f"{args.job_id}: restarted as job {new_id}")
        return 0
    status = jobs.cancel(args.job_id, runs=paths.runs)
    print(f"{args.job_id}: {status.state.value}")
    return 0
