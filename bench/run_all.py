"""Run every benchmark in bench/ (``make bench``), one process each; exit 1 when any target is missed.

    .venv/bin/python bench/run_all.py [NAME ...]     # e.g. fetch app (bench_fetch.py, bench_app.py)

Each ``bench_*.py`` prints its figures beside their targets and exits non-zero when one is
missed; this prints each one's output as it runs, then one line per benchmark (passed / MISSED,
wall time). ``bench_signals.py`` and ``bench_app.py`` share one trained home folder (their setup
trains ten coins, minutes), made on first use in a temp dir. Nothing is written outside temp
folders; the recorded results, with the command that produced them, live in
``bench/results/*.md``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Benchmarks that take a trained home folder and can share one.
SHARED_HOME = ("bench_signals.py", "bench_app.py")


def main(argv: list[str] | None = None) -> int:
    wanted = [a.removeprefix("bench_").removesuffix(".py") for a in (argv or sys.argv[1:])]
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
        unknown = set(wanted) - {s.stem.removeprefix("bench_") for s in scripts}
        if unknown:
            print(f"no benchmark named {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
    home = Path(tempfile.mkdtemp(prefix="cryptovolt-bench-trained-"))
    outcome: list[tuple[str, int, float]] = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        cmd = [sys.executable, str(script)]
        if script.name in SHARED_HOME:
            cmd += ["--home", str(home)]
        started = time.monotonic()
        code = subprocess.run(cmd, cwd=HERE.parent).returncode
        outcome.append((script.name, code, time.monotonic() - started))
    print("\n=== summary ===")
    for name, code, seconds in outcome:
        print(
            f"  {'passed' if code == 0 else f'MISSED (exit {code})':18} {name:24} {seconds:6.0f} s"
        )
    failed = [name for name, code, _ in outcome if code]
    if failed:
        print(f"targets missed in: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
