"""``python -m core ...`` run as a real subprocess on a home folder, and its ``--json`` output read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["core_json", "run_core"]


def run_core(
    home: Path, *args: str, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m core ARGS`` from the repository root with ``CRYPTOVOLT_HOME=home`` and ``env``
    added to this process's environment; the caller checks its exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env={**os.environ, "CRYPTOVOLT_HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def core_json(home: Path, *args: str, timeout: float = 300, **env: str) -> Any:
    """:func:`run_core`, asserting it exits 0 (its stderr as the message); its stdout as JSON."""
    done = run_core(home, *args, timeout=timeout, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
