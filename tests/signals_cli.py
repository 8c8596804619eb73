"""A coin's row of ``python -m core signals --json``, run as a real subprocess on a home folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from tests.core_cli import core_json


def signal_row(
    home: Path, now: pd.Timestamp, *, symbol: str = "BTCUSDT", **env: str
) -> dict[str, Any]:
    """Run ``signals --json`` on ``home`` as if it were ``now`` (``CRYPTOVOLT_NOW``), with ``env``
    added to the child's environment; assert it exits 0 and return ``symbol``'s row."""
    data = core_json(home, "signals", "--json", timeout=120, CRYPTOVOLT_NOW=now.isoformat(), **env)
    rows = data if isinstance(data, list) else data.get("signals", data)
    return next(r for r in rows if r["symbol"] == symbol)
