"""A coin's row of ``python -m core signals --json``, run as a real subprocess on a home folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def signal_row(
    home: Path, now: pd.Timestamp, *, symbol: str = "BTCUSDT", **env: str
) -> dict[str, Any]:
    """Run ``signals --json`` on ``home`` as if it were ``now`` (``CRYPTOVOLT_NOW``), with ``env``
    added to the child's environment; assert it exits 0 and return ``symbol``'s row."""
    child_env = {
        **os.environ,
        "CRYPTOVOLT_HOME": str(home),
        "CRYPTOVOLT_NOW": now.isoformat(),
        **env,
    }
    out = subprocess.run(
        [sys.executable, "-m", "core", "signals", "--json"],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    rows = data if isinstance(data, list) else data.get("signals", data)
    return next(r for r in rows if r["symbol"] == symbol)
