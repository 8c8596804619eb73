"""Benchmark: every default kind for ten coins of two years through the job queue (issue 19.8).

Run: ``.venv/bin/python bench/bench_default_kinds.py [--models all] [--length two-years|sample]``
(writes only into a temp home folder; prints a Markdown table). Target: <= 300 s wall from the
launch to the last job's end (exit 1 when missed or a job fails).

What it runs is what a user runs: ``python -m core train --coins all --background --json`` (one
background job per coin, the local queue's slots, ``python -m core job run`` subprocesses), then
``python -m core job status ID --json`` until every job has ended. ``--models`` as ``train``
takes it (``all``: the default set, ``python -m core kinds``).

Data: the bundled sample's nine coins (real Binance 1h candles, 2024-05 -> 2025-05), each
extended to 17,520 candles (730 days) by time-shifted copies that continue its price
(``bench/_candles.py``). POL, the tenth default coin, is not in the sample: BTC's candles stand in
for its work under POLUSDT's name.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["CRYPTOVOLT_HOME"] = tempfile.mkdtemp(prefix="cryptovolt-bench-default-kinds-")

from _candles import ten_coins  # noqa: E402

from core.data.store import save_candles  # noqa: E402

SAMPLE = ROOT / "data" / "sample"
TARGET_SECONDS = 300.0
DAYS_730 = 17_520


def _core(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="all")
    parser.add_argument("--length", choices=("two-years", "sample"), default="two-years")
    args = parser.parse_args(argv)
    rows = DAYS_730 if args.length == "two-years" else None
    frames = ten_coins(SAMPLE, rows=rows)  # BTC stands in for POL (see the docstring)
    for symbol, frame in frames.items():
        save_candles(frame, symbol, "1h")
    load_before = os.getloadavg()
    started = time.monotonic()
    launched = _core("train", "--coins", "all", "--models", args.models, "--background", "--json")
    if launched.returncode != 0:
        print(launched.stderr)
        return 1
    job_ids = [j["job"] for j in json.loads(launched.stdout)["jobs"]]
    final: dict[str, dict] = {}
    while len(final) < len(job_ids):
        for job_id in job_ids:
            if job_id in final:
                continue
            status = json.loads(_core("job", "status", job_id, "--json").stdout)
            if status["state"] not in ("queued", "running"):
                final[job_id] = status
        time.sleep(1.0)
    wall = time.monotonic() - started
    load_after = os.getloadavg()
    print(
        f"`train --coins all --models {args.models} --background`: {len(job_ids)} jobs, "
        f"{max(len(f) for f in frames.values()):,} candles per coin; {wall:.0f} s wall "
        f"(target <= {TARGET_SECONDS:.0f} s: {'met' if wall <= TARGET_SECONDS else 'NOT met'}); "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print()
    print("| coin | state | versions registered |")
    print("|---|---|---|")
    for status in final.values():
        versions = ", ".join(f"{r['name']} {r['version']}" for r in status.get("result") or []) or (
            status.get("error") or ""
        )
        print(f"| {status['symbol']} | {status['state']} | {versions} |")
    ok = all(s["state"] == "succeeded" for s in final.values())
    return 0 if ok and wall <= TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
