"""``python -m core job``: background training jobs (list, status, log, cancel; run is internal)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from core import jobs
from core.cli._common import format_table

__all__ = ["register", "run"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "job",
        help="background training jobs: list, status, log, cancel",
        description="Background training jobs launched by the Training page or `train --background`.",
    )
    actions = parser.add_subparsers(dest="job_action", metavar="ACTION", required=True)
    p_run = actions.add_parser("run", help="(internal) run a launched job in this process")
    p_run.add_argument("job_id")
    p_list = actions.add_parser("list", help="every job, newest first")
    p_list.add_argument("--limit", type=int, default=20, help="show at most N jobs (default 20)")
    p_list.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p_status = actions.add_parser("status", help="one job's full status")
    p_status.add_argument("job_id")
    p_status.add_argument("--json", action="store_true", help="print JSON")
    p_log = actions.add_parser("log", help="the last lines of a job's log")
    p_log.add_argument("job_id")
    p_log.add_argument("-n", "--lines", type=int, default=50)
    p_cancel = actions.add_parser("cancel", help="stop a queued or running job")
    p_cancel.add_argument("job_id")
    parser.set_defaults(func=run)


def _row(status: dict[str, Any]) -> list[object]:
    result = ", ".join(f"{r.get('name')} {r.get('version')}" for r in status.get("result") or [])
    return [
        status.get("job_id"),
        status.get("symbol"),
        status.get("state"),
        jobs.describe_progress(status)[:70],
        result,
    ]


def run(args: argparse.Namespace) -> int:
    action = args.job_action
    if action == "run":
        from core.jobs.runner import run_job

        return run_job(args.job_id)
    if action == "list":
        found = jobs.list_jobs(limit=args.limit)
        if args.json:
            print(json.dumps(found, indent=2, default=str))
        elif not found:
            print("No jobs yet. Start one: python -m core train --coins BTC --background")
        else:
            headers = ["job", "coin", "state", "progress", "models"]
            print(format_table(headers, [_row(s) for s in found]))
        return 0
    if action == "status":
        status = jobs.status(args.job_id)
        if args.json:
            print(json.dumps(status, indent=2, default=str))
        else:
            for key in ("job_id", "symbol", "state", "started_at", "finished_at", "pid"):
                print(f"{key:12} {status.get(key) or '-'}")
            print(f"{'progress':12} {jobs.describe_progress(status)}")
            for result in status.get("result") or []:
                print(f"{'model':12} {result.get('name')} {result.get('version')}")
        return 0 if status.get("state") != jobs.JobState.FAILED else 1
    if action == "log":
        print(jobs.tail_log(args.job_id, args.lines))
        return 0
    status = jobs.cancel(args.job_id)
    print(f"{args.job_id}: {status.get('state')}")
    return 0
