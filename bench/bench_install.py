"""Install benchmark (issue 21.4): a fresh ``.venv`` from the requirements files, timed and measured.

For each git ref given (default: ``10ba903``, the seed before the lighter install, and the working
tree), the three requirements files are copied into a temporary folder and installed the way
``make install`` does (a fresh ``python3 -m venv``, pip upgraded, ``pip install -r
requirements-dev.txt``). Printed per ref: the wall time of the install, the size of the venv on
disk, and whether ``nvidia-nccl-cu12`` (the 351.5 MB CUDA library plain ``xgboost`` pulls on
Linux) is in it. pip's download cache is shared between the runs (and with earlier installs on
the machine), so the times are install time, not download time; run each ref twice (``--runs``)
to see the spread. Target: the working tree's venv is smaller than the seed's and has no
``nvidia-nccl-cu12``.

    .venv/bin/python bench/bench_install.py [--refs 10ba903 WORKTREE] [--runs 1] [--keep]

Exit code 0 when the target is met.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("requirements.txt", "requirements-dev.txt", "requirements-ray.txt")
WORKTREE = "WORKTREE"


def _requirements(ref: str, into: Path) -> None:
    """Write ``ref``'s requirements files into ``into`` (``WORKTREE``: the files on disk)."""
    for name in FILES:
        if ref == WORKTREE:
            text = (ROOT / name).read_text()
        else:
            text = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{ref}:{name}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        (into / name).write_text(text)


def _size_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    return total


def _install(ref: str, keep: bool) -> tuple[float, int, bool]:
    work = Path(tempfile.mkdtemp(prefix="cryptovolt-install-"))
    try:
        _requirements(ref, work)
        venv = work / ".venv"
        python = venv / "bin" / "python"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        quiet = ["--quiet", "--disable-pip-version-check"]
        for args in (["--upgrade", "pip"], ["-r", "requirements-dev.txt"]):
            done = subprocess.run(
                [str(python), "-m", "pip", "install", *quiet, *args],
                capture_output=True,
                text=True,
                cwd=work,
            )
            if done.returncode != 0:
                sys.exit(
                    f"error: pip install {' '.join(args)} failed for {ref}:\n{done.stderr[-2000:]}"
                )
        seconds = time.perf_counter() - start
        listed = subprocess.run(
            [str(python), "-m", "pip", "list", "--format=freeze"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.lower()
        return seconds, _size_bytes(venv), "nvidia-nccl-cu12" in listed
    finally:
        if keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refs", nargs="+", default=["10ba903", WORKTREE])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary venvs")
    args = parser.parse_args()

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| ref | run | install wall | venv size | nvidia-nccl-cu12 |")
    print("|---|---|---|---|---|")
    sizes: dict[str, int] = {}
    nccl: dict[str, bool] = {}
    for ref in args.refs:
        for run in range(1, args.runs + 1):
            seconds, size, has_nccl = _install(ref, args.keep)
            sizes[ref], nccl[ref] = size, has_nccl
            print(
                f"| {ref} | {run} | {seconds:.0f} s | {size / 1e9:.2f} GB | {'yes' if has_nccl else 'no'} |"
            )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if WORKTREE in sizes and len(sizes) > 1:
        others = [size for ref, size in sizes.items() if ref != WORKTREE]
        met = sizes[WORKTREE] < min(others) and not nccl[WORKTREE]
        print(f"target (working tree smaller, no nvidia-nccl-cu12): {'met' if met else 'MISSED'}")
        return 0 if met else 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
