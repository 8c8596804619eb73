"""``python -m core models`` as real subprocesses: cards, gates, champion / challenger by hand."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.registry.model_registry import ModelRegistry
from tests.card_home import ROOT, copy_carded_into

pytestmark = pytest.mark.slow


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def carded(home: Path) -> Path:
    return copy_carded_into(home)


def test_models_show_json_returns_the_card_with_its_gates(carded: Path):
    done = cli("models", "show", "xgb_direction_btcusdt", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["name"] == "xgb_direction_btcusdt" and payload["version"] == "v1"
    assert payload["promoted"] is True and payload["gates_passed"] is True
    gates = payload["card"]["gates"]
    assert {"auc", "beats_volatility", "direction", "log_loss", "ece"} <= set(gates)
    for gate in gates.values():
        assert {"value", "threshold", "passed", "rule"} <= set(gate)
        assert gate["passed"] is True
    assert payload["card"]["calibration"]["built_on"] == "walk-forward folds"
    stored = ModelRegistry().record("xgb_direction_btcusdt", "v1")
    assert (
        stored.card is not None and payload["card"]["metrics"] == stored.card.to_dict()["metrics"]
    )
    # --json before the action works too; the default is the champion
    before = cli("models", "--json", "show", "xgb_direction_ethusdt")
    eth = json.loads(before.stdout)
    assert eth["version"] == "v1" and eth["gates_passed"] is False
    assert eth["verdict"].startswith("No edge: passes")
    assert not any(g["passed"] for g in eth["card"]["gates"].values())


def test_models_show_prints_the_card_in_words(carded: Path):
    done = cli("models", "show", "xgb_direction_ethusdt", "v2")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "xgb_direction_ethusdt v2 (XGBoost direction, challenger)" in out
    assert re.search(r"No edge: passes [0-4] of [4-6] — fails: .*lower bound", out)
    assert "95% interval" in out and "baseline" in out and "FAIL" in out
    assert "Reliability: built on walk-forward folds, reported on test window" in out


def test_models_list_shows_gates_and_the_champion(carded: Path):
    done = cli("models")
    assert done.returncode == 0, done.stderr
    lines = {
        line.split()[0] + " " + line.split()[1]: line for line in done.stdout.splitlines()[2:-1]
    }
    assert (
        "champion" in lines["xgb_direction_btcusdt v1"]
        and "passes all" in lines["xgb_direction_btcusdt v1"]
    )
    assert "champion" in lines["xgb_direction_ethusdt v1"]
    assert "champion" not in lines["xgb_direction_ethusdt v2"]
    assert re.search(r"passes [0-4] of [4-6]", lines["xgb_direction_ethusdt v2"])
    assert (
        "AUC" in lines["xgb_direction_btcusdt v1"] and "vs 0.5" in lines["xgb_direction_btcusdt v1"]
    )
    rows = json.loads(cli("models", "--json").stdout)
    by = {(r["name"], r["version"]): r for r in rows}
    assert by[("xgb_direction_btcusdt", "v1")]["gates_passed"] is True
    assert by[("xgb_direction_ethusdt", "v2")]["champion"] is False


def test_promoting_a_version_whose_gates_fail_needs_force(carded: Path):
    refused = cli("models", "promote", "xgb_direction_ethusdt", "v2")
    assert refused.returncode == 1
    assert "Not promoting xgb_direction_ethusdt v2" in refused.stderr
    assert "lower bound" in refused.stderr and "--force" in refused.stderr
    assert ModelRegistry().promoted_version("xgb_direction_ethusdt") == "v1"
    forced = cli("models", "promote", "xgb_direction_ethusdt", "v2", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "xgb_direction_ethusdt v2 is now the champion (forced" in forced.stdout
    assert ModelRegistry().promoted_version("xgb_direction_ethusdt") == "v2"
