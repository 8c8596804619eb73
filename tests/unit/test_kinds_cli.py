"""``python -m core kinds [--json]``: every registered kind, what it predicts, its estimator,
its horizon and whether it is in the default set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.models import DEFAULT_KINDS

ROOT = Path(__file__).resolve().parents[2]


def kinds() -> list[str]:
    """The kinds a fresh ``python -m core`` knows: this test process's registry also holds the
    plugin kinds other tests register (tests/toy_kind.py), which the command never loads."""
    code = "import json; from core.models import kinds; print(json.dumps(kinds()))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return list(json.loads(out.stdout))


def _run(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "core", "kinds", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_kinds_json_lists_every_kind_with_what_it_predicts():
    rows = json.loads(_run("--json"))
    assert [r["kind"] for r in rows] == kinds()
    by_kind = {r["kind"]: r for r in rows}
    for row in rows:
        assert {"kind", "predicts", "estimator", "horizon", "default"} <= set(row)
        assert row["predicts"] in {"probability", "return", "price", "volatility"}
        assert row["default"] is (row["kind"] in DEFAULT_KINDS)
    assert by_kind["xgb_direction"]["estimator"] == by_kind["xgboost"]["estimator"] == "XGBoost"
    assert by_kind["hgb_direction"]["estimator"] == "HistGradientBoosting"
    assert by_kind["lstm"]["predicts"] == "price" and by_kind["lstm"]["horizon"] == 1
    assert by_kind["lstm_return"]["predicts"] == "return"
    assert by_kind["xgb_direction"]["horizon"] == 6 and not by_kind["hgb"]["default"]


def test_kinds_table_has_one_line_per_kind():
    lines = _run().splitlines()
    assert lines[0].split()[:5] == ["kind", "predicts", "estimator", "horizon", "default"]
    assert len(lines) == 2 + len(kinds())
